/**
 * Object syscalls (Zircon's `lib/syscalls/object.cc`, `object_wait.cc`): the name property,
 * signals and `zx_object_wait_one`. VMOs and channel endpoints assert signals; VMARs none.
 *
 * @module
 */
import { ZxError } from "../../abi/error.ts";
import { Rights } from "../../abi/rights.ts";
import { ZxStatus } from "../../abi/status.ts";
import { ChannelObject } from "../channel.ts";
import type { KObject } from "../handles.ts";
import type { KernelCore } from "../kernel.ts";
import { VmoObject, type Waiter } from "../vm_object.ts";

const S = ZxStatus;
const WAIT = "zx_object_wait_one";

/** `zx_object_get_property(ZX_PROP_NAME)`. */
export function getName(k: KernelCore, value: number): string {
  const op = "zx_object_get_property";
  const e = k.lookup(value, op);
  k.need(e, Rights.GetProperty, op, "get its name");
  return e.obj instanceof VmoObject ? e.obj.name : "";
}

/**
 * `zx_object_set_property(ZX_PROP_NAME)`: names longer than 31 bytes are truncated. VMARs
 * have no name in zxvm: setting one needs `SET_PROPERTY`, which VMAR handles never have.
 */
export function setName(k: KernelCore, value: number, name: string): void {
  const op = "zx_object_set_property";
  const e = k.lookup(value, op);
  k.need(e, Rights.SetProperty, op, "set its name");
  if (!(e.obj instanceof VmoObject)) {
    throw new ZxError(S.ErrNotSupported, op, "only VMOs have a ZX_PROP_NAME in zxvm");
  }
  e.obj.name = truncateName(name);
}

/** An object that asserts signals and keeps the waits on them. */
interface Waitable {
  readonly waiters: Set<Waiter>;
  signals(): number;
}

function waitable(obj: KObject): Waitable | null {
  return obj instanceof VmoObject || obj instanceof ChannelObject ? obj : null;
}

function signalsOf(obj: KObject): number {
  return waitable(obj)?.signals() ?? 0;
}

/** Current signals of the handle's object (needs `Rights.Wait`). */
export function signals(k: KernelCore, value: number, op = WAIT): number {
  const e = k.lookup(value, op);
  k.need(e, Rights.Wait, op, "observe signals");
  return signalsOf(e.obj);
}

/**
 * `zx_object_wait_one`: resolves with the observed signals once any of `mask` is asserted;
 * rejects with `ErrTimedOut` at `deadline` (ms, `Date.now()` clock), `ErrCanceled` on abort
 * or when the handle is closed.
 */
export function waitOne(
  k: KernelCore,
  value: number,
  mask: number,
  deadline: number,
  signal?: AbortSignal,
): Promise<number> {
  const e = k.lookup(value, WAIT);
  k.need(e, Rights.Wait, WAIT, "wait on it");
  const now = signalsOf(e.obj);
  if ((now & mask) !== 0) return Promise.resolve(now);
  if (signal?.aborted) {
    return Promise.reject(new ZxError(S.ErrCanceled, WAIT, "the wait was aborted"));
  }
  if (deadline <= Date.now()) {
    return Promise.reject(new ZxError(S.ErrTimedOut, WAIT, "the deadline passed"));
  }
  // VMARs never assert a signal in zxvm: only the deadline or an abort can end their wait.
  const obj = waitable(e.obj);
  return new Promise((resolve, reject) => {
    arm({ owner: k, handle: value, mask, resolve, reject }, deadline, signal, obj);
  });
}

function arm(
  w: Waiter,
  deadline: number,
  signal: AbortSignal | undefined,
  obj: Waitable | null,
): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cleanup = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    obj?.waiters.delete(waiter);
  };
  const waiter: Waiter = {
    owner: w.owner,
    handle: w.handle,
    mask: w.mask,
    resolve: (s) => {
      cleanup();
      w.resolve(s);
    },
    reject: (x) => {
      cleanup();
      w.reject(x);
    },
  };
  const onAbort = (): void =>
    waiter.reject(new ZxError(S.ErrCanceled, WAIT, "the wait was aborted"));
  signal?.addEventListener("abort", onAbort, { once: true });
  if (Number.isFinite(deadline)) {
    // Timers hold at most 2^31 - 1 ms (about 24.8 days): re-arm until the deadline is real.
    const tick = (): void => {
      const left = deadline - Date.now();
      if (left <= 0) {
        waiter.reject(new ZxError(S.ErrTimedOut, WAIT, "the deadline passed"));
        return;
      }
      timer = setTimeout(tick, Math.min(left, 2 ** 31 - 1));
    };
    tick();
  }
  obj?.waiters.add(waiter);
}

/**
 * Cancel the waits on `obj` made through kernel `owner`'s handle `value` (it is being closed or
 * written to a channel), or through any of `owner`'s handles (`value` null: the kernel closes).
 */
export function cancelWaits(obj: KObject, owner: object, value: number | null, why: string): void {
  const o = waitable(obj);
  if (o === null) return;
  for (const w of [...o.waiters]) {
    if (w.owner === owner && (value === null || w.handle === value)) {
      o.waiters.delete(w);
      w.reject(new ZxError(S.ErrCanceled, WAIT, why));
    }
  }
}

/** Truncate a name to at most 31 UTF-8 bytes (`ZX_MAX_NAME_LEN - 1`) without splitting a character. */
export function truncateName(name: string): string {
  // Zircon keeps a C string: whatever follows a NUL is never read back.
  const nul = name.indexOf("\0");
  if (nul >= 0) name = name.slice(0, nul);
  const enc = new TextEncoder();
  if (enc.encode(name).length <= 31) return name;
  let out = "";
  let bytes = 0;
  for (const ch of name) {
    const n = enc.encode(ch).length;
    if (bytes + n > 31) break;
    out += ch;
    bytes += n;
  }
  return out;
}
