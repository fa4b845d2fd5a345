/**
 * Futex syscalls (Zircon's `lib/syscalls/futex.cc` and `FutexContext`): `zx_futex_wait` and
 * `zx_futex_wake` on a 32-bit word of mapped memory.
 *
 * Checks, in Zircon's order: the address is 4-aligned (`ErrInvalidArgs`); for a wait, it is
 * readable memory of this kernel's address space (`ErrInvalidArgs`, as a failed user copy is),
 * the word holds the expected value (`ErrBadState`), then the wait blocks until a wake or the
 * deadline (`ErrTimedOut`).
 *
 * Where zxvm extends Zircon: a futex is keyed by the memory (VMO and offset), not by the
 * address, so waiters in any kernel that maps the same VMO (a Worker's, another mapping in
 * this one) meet. Zircon's futexes are process-local. `new_futex_owner` (priority
 * inheritance) and `zx_futex_requeue` are not offered.
 *
 * @module
 */
import { ZxError } from "../../abi/error.ts";
import { ZxVmOption as O } from "../../abi/options.ts";
import { ZxStatus } from "../../abi/status.ts";
import { FutexOutcome, type Memory } from "../../backend/types.ts";
import { findRecord } from "../access.ts";
import { backendCall, backendFailure } from "../backend_call.ts";
import { permName } from "../flags.ts";
import type { KernelCore } from "../kernel.ts";

const S = ZxStatus;
const WAIT = "zx_futex_wait";
const WAKE = "zx_futex_wake";

/** A futex word: its address and the memory behind it. */
interface Word {
  addr: number;
  mem: Memory;
  memOffset: number;
}

/** An asynchronous wait still pending: how to cancel it when its kernel closes. */
interface Pending {
  word: Word;
  cancel(e: ZxError): void;
}

const pendingOf = new WeakMap<KernelCore, Set<Pending>>();

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * The word at `addr`, checked for `op`: 4-aligned, and (for a wait) mapped readable in `k`.
 * A wake of a word nothing maps finds no waiter: `null`.
 */
function wordAt(k: KernelCore, addr: number, op: string): Word | null {
  if (k.closed) throw new ZxError(S.ErrBadState, op, "the kernel was closed");
  if (addr === 0 || addr % 4 !== 0) {
    throw new ZxError(S.ErrInvalidArgs, op, `address ${hex(addr)} is not a 4-aligned pointer`);
  }
  const r = findRecord(k.root, addr);
  const where = `at ${hex(addr)}`;
  if (r === undefined) {
    if (op === WAKE) return null;
    throw new ZxError(S.ErrInvalidArgs, op, `nothing is mapped ${where}`);
  }
  if (op === WAIT && (r.perms & O.VmPermRead) === 0) {
    throw new ZxError(S.ErrInvalidArgs, op, `the mapping ${where} is ${permName(r.perms)}`);
  }
  const vOff = r.vmoOffset + (addr - r.start);
  if (vOff + 4 > r.vmo.size) {
    if (op === WAKE) return null;
    throw new ZxError(S.ErrInvalidArgs, op, `${where} is beyond the end of the mapped VMO`);
  }
  return { addr, mem: r.vmo.mem, memOffset: r.vmo.memOffset + vOff };
}

/** Milliseconds from now to `deadline` (a `Date.now()` time; `Infinity`: none), at least 0. */
function timeoutOf(deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(0, deadline - Date.now());
}

function settle(o: FutexOutcome, deadline: number): void {
  if (o === FutexOutcome.Mismatch) {
    throw new ZxError(S.ErrBadState, WAIT, "the word does not hold the expected value");
  }
  if (o === FutexOutcome.TimedOut) {
    throw new ZxError(S.ErrTimedOut, WAIT, `not woken before the deadline (${deadline})`);
  }
}

/**
 * `zx_futex_wait`, blocking the calling thread.
 *
 * @param value the expected value, as an int32
 * @param deadline a `Date.now()` time, or `Infinity`
 * @throws {ZxError} `ErrInvalidArgs`, `ErrBadState`, `ErrTimedOut`; `ErrNotSupported` when the
 *   wait could never end (emulated memory no other thread reaches, no deadline) or this thread
 *   may not block
 */
export function futexWait(k: KernelCore, addr: number, value: number, deadline: number): void {
  const w = wordAt(k, addr, WAIT)!;
  const o = backendCall(
    WAIT,
    () => k.aspace.futexWait(w.addr, w.mem, w.memOffset, value, timeoutOf(deadline)),
  );
  settle(o, deadline);
}

/**
 * `zx_futex_wait` without blocking: the promise resolves when woken.
 *
 * @throws {ZxError} synchronously for a bad address; as a rejection `ErrBadState`,
 *   `ErrTimedOut`, or `ErrCanceled` when the kernel closes first
 */
export function futexWaitAsync(
  k: KernelCore,
  addr: number,
  value: number,
  deadline: number,
): Promise<void> {
  const w = wordAt(k, addr, WAIT)!;
  const started = backendCall(
    WAIT,
    () => k.aspace.futexWaitAsync(w.addr, w.mem, w.memOffset, value, timeoutOf(deadline)),
  );
  let set = pendingOf.get(k);
  if (set === undefined) pendingOf.set(k, set = new Set());
  const pending = set;
  return new Promise<void>((resolve, reject) => {
    const p: Pending = {
      word: w,
      cancel: (e) => {
        pending.delete(p);
        reject(e);
      },
    };
    pending.add(p);
    started.then(
      (o) => {
        if (!pending.delete(p)) return; // cancelled: the kernel closed
        try {
          settle(o, deadline);
          resolve();
        } catch (e) {
          reject(e);
        }
      },
      (x) => {
        if (pending.delete(p)) reject(backendFailure(WAIT, x));
      },
    );
  });
}

/**
 * `zx_futex_wake`: wake up to `count` waiters (`Infinity`: all) on the word at `addr`.
 *
 * @returns how many were woken (Zircon returns only a status; a count helps tests)
 * @throws {ZxError} `ErrInvalidArgs` for a misaligned address
 */
export function futexWake(k: KernelCore, addr: number, count: number): number {
  const w = wordAt(k, addr, WAKE);
  if (w === null || count === 0) return 0;
  return backendCall(WAKE, () => k.aspace.futexWake(w.addr, w.mem, w.memOffset, count));
}

/**
 * Before `k` closes: reject its pending asynchronous waits with `ErrCanceled` and wake their
 * words, so no thread stays blocked in a wait nobody can collect (other waiters on those words
 * may see a spurious wake, which futex users must expect).
 */
export function cancelFutexWaits(k: KernelCore): void {
  const set = pendingOf.get(k);
  if (set === undefined) return;
  pendingOf.delete(k);
  for (const p of [...set]) {
    p.cancel(new ZxError(S.ErrCanceled, WAIT, "the kernel was closed"));
    try {
      k.aspace.futexWake(p.word.addr, p.word.mem, p.word.memOffset, Infinity);
    } catch {
      // The word's memory is gone already: nothing waits there any more.
    }
  }
}
