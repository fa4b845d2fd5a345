/**
 * What the kernels of one JS realm share, now that channels move handles between them:
 *
 * - koid ranges. Each open kernel numbers its objects from its own range (`slot * 2^32 +
 *   1024` onwards), the lowest slot no open kernel holds, so a kernel opened alone gets the same
 *   koids as before (1024, 1025, …) and kernels open at the same time never share a koid. A
 *   kernel that took part in a handle transfer retires its slot when it closes (objects it
 *   created may live on elsewhere); the others give it back.
 * - the kernels that took part in handle transfers and are still open, by backend kind: when
 *   such a kernel closes while a VMO it created is still reachable from another kernel, the
 *   VMO's memory moves to one of them (`MemoryPool.handOver`).
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { ZxStatus } from "../abi/status.ts";

/** Koids per kernel slot. */
export const KOID_RANGE = 2 ** 32;
/** Slots: `slot * KOID_RANGE + counter` stays below 2^53. */
const MAX_SLOTS = 2 ** 21 - 1;

/**
 * Whether this realm is a Worker (a Deno/web `Worker`, or a Node `worker_threads` thread): its
 * kernels then take koid slots from a random base in the upper half, so koids stay unique
 * when handles travel between realms (the main realm keeps slot 0 onwards).
 */
function inWorker(): boolean {
  const g = globalThis as {
    WorkerGlobalScope?: unknown;
    process?: { getBuiltinModule?: (id: string) => { isMainThread?: boolean } | undefined };
  };
  if (
    typeof g.WorkerGlobalScope === "function" &&
    globalThis instanceof (g.WorkerGlobalScope as typeof Object)
  ) return true;
  try {
    return g.process?.getBuiltinModule?.("node:worker_threads")?.isMainThread === false;
  } catch {
    return false;
  }
}

/** This realm's first koid slot: 0 in the main realm, random in [2^20, 2^21 - 2^12) in a Worker. */
export const REALM_BASE_SLOT: number = inWorker()
  ? 2 ** 20 + Math.floor(Math.random() * (2 ** 20 - 2 ** 12))
  : 0;

const taken = new Set<number>();
let lowest = REALM_BASE_SLOT;

/**
 * The lowest koid slot no open kernel holds (and no closed one retired).
 *
 * @throws {ZxError} `ErrNoResources` when every slot is in use
 */
export function takeKoidSlot(): number {
  let s = lowest;
  while (taken.has(s)) s++;
  if (s >= MAX_SLOTS) {
    throw new ZxError(ZxStatus.ErrNoResources, "zx_kernel_open", "no koid range is left");
  }
  taken.add(s);
  lowest = s + 1;
  return s;
}

/** A kernel closed: give its slot back, unless objects it made may still be alive (`retire`). */
export function releaseKoidSlot(slot: number, retire: boolean): void {
  if (retire) return;
  taken.delete(slot);
  if (slot < lowest) lowest = Math.max(slot, REALM_BASE_SLOT);
}

/** What the realm needs of a kernel that took part in handle transfers. */
export interface RealmMember {
  /** Its backend's kind. */
  readonly kind: "native" | "emulated";
}

const members = new Set<RealmMember>();

/** `k` took part in a handle transfer (idempotent). */
export function join(k: RealmMember): void {
  members.add(k);
}

/** `k` is closing: whether it had taken part in a handle transfer. */
export function leave(k: RealmMember): boolean {
  return members.delete(k);
}

/** An open member of `kind` other than `except`, or null. */
export function memberOfKind<T extends RealmMember>(kind: string, except: T): T | null {
  for (const m of members) if (m !== except && m.kind === kind) return m as T;
  return null;
}
