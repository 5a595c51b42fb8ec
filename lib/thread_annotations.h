// Clang thread-safety annotations (-Wthread-safety), spelled as Zircon does.
//
// Locks are capabilities; data says which lock guards it and functions say which locks they
// need. "IRQs masked on this CPU" is modelled as a capability too (kernel/base/irq_state.h), so
// code that touches per-CPU state cannot compile unless it provably masked interrupts.
#pragma once

#if defined(__clang__)
#define LICHEN_TA(x) __attribute__((x))
#else
#define LICHEN_TA(x)
#endif

#define TA_CAP(name) LICHEN_TA(capability(name))
#define TA_SCOPED_CAP LICHEN_TA(scoped_lockable)
#define TA_GUARDED(x) LICHEN_TA(guarded_by(x))
#define TA_PT_GUARDED(x) LICHEN_TA(pt_guarded_by(x))
#define TA_REQ(...) LICHEN_TA(requires_capability(__VA_ARGS__))
#define TA_EXCL(...) LICHEN_TA(locks_excluded(__VA_ARGS__))
#define TA_ACQ(...) LICHEN_TA(acquire_capability(__VA_ARGS__))
#define TA_TRY_ACQ(...) LICHEN_TA(try_acquire_capability(__VA_ARGS__))
#define TA_REL(...) LICHEN_TA(release_capability(__VA_ARGS__))
#define TA_ASSERT(...) LICHEN_TA(assert_capability(__VA_ARGS__))
#define TA_RET_CAP(x) LICHEN_TA(lock_returned(x))
#define TA_ACQ_BEFORE(...) LICHEN_TA(acquired_before(__VA_ARGS__))
#define TA_ACQ_AFTER(...) LICHEN_TA(acquired_after(__VA_ARGS__))
// Escape hatch. Every use carries a comment arguing why the access is safe.
#define TA_NO_THREAD_SAFETY_ANALYSIS LICHEN_TA(no_thread_safety_analysis)
