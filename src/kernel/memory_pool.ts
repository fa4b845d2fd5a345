/**
 * The memory objects of one kernel, and where a memory goes when its kernel closes while
 * another kernel of the realm still reaches it (a VMO sent through a channel outlives the
 * kernel that made it).
 *
 * @module
 */
import type { Backend, Memory } from "../backend/types.ts";
import { backendCall } from "./backend_call.ts";

/** The pool each live memory object belongs to now (a memory moves when its kernel closes). */
const homes = new WeakMap<Memory, MemoryPool>();

/**
 * The memory objects one kernel hosts: those it created and not yet released, and those it
 * adopted from a kernel that closed while another kernel still used them (a VMO sent through a
 * channel outlives the kernel that made it).
 */
export class MemoryPool {
  readonly #backend: Backend;
  readonly #live = new Set<Memory>();

  /** @param backend where memory comes from */
  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** The kind of memory this pool hosts (its backend's kind). */
  get kind(): "native" | "emulated" {
    return this.#backend.kind;
  }

  /** Create `size` bytes (a page multiple) of zero memory for syscall `op`. */
  create(size: number, op: string): Memory {
    const mem = backendCall(op, () => this.#backend.createMemory(size));
    this.#live.add(mem);
    homes.set(mem, this);
    return mem;
  }

  /** Host `mem`, a memory object received from another realm (see `channel_link.ts`). */
  host(mem: Memory): void {
    this.#live.add(mem);
    homes.set(mem, this);
  }

  /** The backend's {@link Backend.share}, if it has one. */
  get backend(): Backend {
    return this.#backend;
  }

  /** Release `mem` (once), in whichever pool hosts it now. */
  release(mem: Memory): void {
    const home = homes.get(mem);
    if (home === undefined) return;
    homes.delete(mem);
    home.#live.delete(mem);
    mem.close();
  }

  /**
   * Kernel close: the memory objects still hosted here belong to VMOs that other kernels still
   * reach. Each moves to `next` when its backend adopts it; the others (no `next`: no open
   * kernel of this kind can reach them any more) are released.
   */
  handOver(next: MemoryPool | null): void {
    for (const m of this.#live) {
      homes.delete(m);
      if (next !== null && next !== this && next.#backend.adopt(m)) {
        next.#live.add(m);
        homes.set(m, next);
      } else {
        m.close();
      }
    }
    this.#live.clear();
  }

  /** Release everything still hosted here. */
  releaseAll(): void {
    this.handOver(null);
  }
}
