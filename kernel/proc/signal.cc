// Signals: what happens when one is sent (kill, tgkill, a fault), and their default actions.
// The rest of the signal layer (handlers, frames, stop and continue) grows here.
#include "kernel/proc/internal.h"
#include "kernel/proc/process.h"
#include "lib/log.h"

namespace lichen::proc {

DefaultAction DefaultActionOf(int sig) {
  switch (sig) {
    case kSigQuit:
    case kSigIll:
    case kSigTrap:
    case kSigAbrt:
    case kSigBus:
    case kSigFpe:
    case kSigSegv:
    case kSigXcpu:
    case kSigXfsz:
    case kSigSys:
      return DefaultAction::kCoreDump;
    case kSigChld:
    case kSigUrg:
    case kSigWinch:
      return DefaultAction::kIgnore;
    case kSigStop:
    case kSigTstp:
    case kSigTtin:
    case kSigTtou:
      return DefaultAction::kStop;
    case kSigCont:
      return DefaultAction::kContinue;
    default:
      return DefaultAction::kTerminate;  // the rest, real-time signals included
  }
}

int64_t SendSignal(Process* p, Thread* target, int sig) {
  if (sig == 0) return 0;  // only "does it exist"
  bool fatal = false;
  {
    LockGuard<SpinLock> guard(p->lock);
    if (p->group_exit.Load(std::memory_order_relaxed)) return 0;  // already dying
    const SigAction& action = p->actions[sig - 1];
    const bool can_catch = sig != kSigKill && sig != kSigStop;
    if (can_catch && action.handler == kSigIgn) return 0;
    if (can_catch && action.handler != kSigDfl) {
      // A handler: this kernel builds no signal frames yet (docs/process.md), so the signal
      // stays pending, as if blocked forever.
      p->pending |= SigBit(sig);
      LICHEN_LOG_DEBUG("process {}: signal {} has a handler, left pending", p->pid, sig);
      return 0;
    }
    const DefaultAction def = DefaultActionOf(sig);
    if (def == DefaultAction::kIgnore || def == DefaultAction::kContinue) return 0;
    if (def == DefaultAction::kStop) {
      LICHEN_LOG_INFO("process {}: stop signal {} ignored (no job control)", p->pid, sig);
      return 0;
    }
    // Blocked by the target (tgkill) or by every thread (kill): pending until unblocked.
    bool blocked = can_catch;
    if (target != nullptr) {
      blocked = blocked && (target->sigmask.Load(std::memory_order_relaxed) & SigBit(sig)) != 0;
    } else {
      for (Thread* t = p->threads.Front(); blocked && t != nullptr; t = p->threads.Next(*t)) {
        if ((t->sigmask.Load(std::memory_order_relaxed) & SigBit(sig)) == 0) blocked = false;
      }
    }
    if (blocked) {
      p->pending |= SigBit(sig);
      return 0;
    }
    fatal = true;
  }
  if (fatal) {
    LICHEN_LOG_INFO("process {} killed by signal {}", p->pid, sig);
    KillProcess(p, SignaledStatus(sig));
  }
  return 0;
}

void DeliverUnblocked(Thread& t) {
  Process* p = t.process;
  int fatal = 0;
  {
    LockGuard<SpinLock> guard(p->lock);
    const uint64_t deliverable = p->pending & ~t.sigmask.Load(std::memory_order_relaxed);
    for (int sig = 1; sig <= kNumSignals && fatal == 0; ++sig) {
      if ((deliverable & SigBit(sig)) == 0) continue;
      const SigAction& action = p->actions[sig - 1];
      if (action.handler != kSigDfl) continue;  // a handler (left pending) or since ignored
      const DefaultAction def = DefaultActionOf(sig);
      if (def == DefaultAction::kTerminate || def == DefaultAction::kCoreDump) fatal = sig;
    }
  }
  if (fatal != 0) KillProcess(p, SignaledStatus(fatal));
}

void ForceSignal(Thread& t, int sig) {
  // A fault the thread cannot continue from: as Linux's force_sig, blocking or ignoring the
  // signal does not save the process, and with no signal frames a handler cannot either.
  LICHEN_LOG_INFO("process {} thread {}: fatal signal {}", t.process->pid, t.tid, sig);
  KillProcess(t.process, SignaledStatus(sig));
}

}  // namespace lichen::proc
