/**
 * `Mapping.read` / `Mapping.write`: memory accesses checked the way a CPU checks them
 * (mapped, permitted, backed by the VMO), raising the fault `ZxError` (op `"page_fault"`)
 * where a real access would fault. A write is all or nothing.
 *
 * @module
 */
import { ZxError } from "../abi/error.ts";
import { u8Length, u8Slice } from "../abi/intrinsics.ts";
import { ZxVmOption as O } from "../abi/options.ts";
import { ZxStatus } from "../abi/status.ts";
import { permName } from "./flags.ts";
import type { VmarObject } from "./vm_address_region.ts";
import { type MappingOrigin, MappingRecord } from "./vm_mapping.ts";

const S = ZxStatus;
const OP = "page_fault";

/** The mapping record containing `addr` anywhere under `root`, if any. */
export function findRecord(root: VmarObject, addr: number): MappingRecord | undefined {
  let v: VmarObject = root;
  for (;;) {
    const c = v.children.containing(addr);
    if (c === undefined) return undefined;
    if (c instanceof MappingRecord) return c;
    v = c;
  }
}

/** One piece of an access: `n` bytes at `addr` inside record `rec`. */
type Piece = [rec: MappingRecord, addr: number, n: number];

/**
 * Check an access to `[addr, addr+len)` and return the pieces to copy. With `origin`, only
 * memory that map call still maps counts (a Mapping never reaches what was mapped later).
 *
 * @throws {ZxError} the fault: `ErrNotFound`, `ErrAccessDenied` or `ErrOutOfRange`, with
 *   `fault: { addr, access }`
 */
function plan(
  root: VmarObject,
  addr: number,
  len: number,
  access: "read" | "write",
  origin: MappingOrigin | null,
): Piece[] {
  const pieces: Piece[] = [];
  const need = access === "read" ? O.VmPermRead : O.VmPermWrite;
  let a = addr;
  const end = addr + len;
  while (a < end) {
    const r = findRecord(root, a);
    const fault = (status: ZxStatus, why: string): ZxError =>
      new ZxError(status, OP, `${access} at 0x${a.toString(16)}: ${why}`, { addr: a, access });
    if (r === undefined) throw fault(S.ErrNotFound, "nothing is mapped there");
    if (origin !== null && r.origin !== origin) {
      throw fault(S.ErrNotFound, "this mapping no longer covers that address");
    }
    if ((r.perms & need) === 0) {
      throw fault(S.ErrAccessDenied, `the mapping is ${permName(r.perms)}`);
    }
    const vOff = r.vmoOffset + (a - r.start);
    if (vOff >= r.vmo.size) throw fault(S.ErrOutOfRange, "beyond the end of the VMO");
    const n = Math.min(end, r.end, a + (r.vmo.size - vOff)) - a;
    pieces.push([r, a, n]);
    a += n;
  }
  return pieces;
}

function vmoOffsetOf([r, a]: Piece): number {
  return r.vmoOffset + (a - r.start);
}

/**
 * Read `[addr, addr + dst.length)` into `dst` (a plain `Uint8Array` the SDK made).
 *
 * @throws {ZxError} the fault, or a backend failure (op `"page_fault"`)
 */
export function readAt(
  root: VmarObject,
  addr: number,
  dst: Uint8Array,
  origin: MappingOrigin | null,
): void {
  for (const p of plan(root, addr, u8Length(dst), "read", origin)) {
    const o = p[1] - addr;
    p[0].vmo.read(vmoOffsetOf(p), u8Slice(dst, o, o + p[2]), OP);
  }
}

/**
 * Write `src` at `[addr, addr + src.length)`: nothing is written unless all of it may be, and
 * if the backend fails part-way the pieces already written get their old bytes back.
 *
 * @throws {ZxError} the fault, or a backend failure (op `"page_fault"`)
 */
export function writeAt(
  root: VmarObject,
  addr: number,
  src: Uint8Array,
  origin: MappingOrigin | null,
): void {
  const pieces = plan(root, addr, u8Length(src), "write", origin);
  if (pieces.length === 1) {
    pieces[0][0].vmo.write(vmoOffsetOf(pieces[0]), src, OP);
    return;
  }
  const old = pieces.map((p) => {
    const b = new Uint8Array(p[2]);
    p[0].vmo.read(vmoOffsetOf(p), b, OP);
    return b;
  });
  let i = 0;
  try {
    for (; i < pieces.length; i++) {
      const p = pieces[i];
      const o = p[1] - addr;
      p[0].vmo.write(vmoOffsetOf(p), u8Slice(src, o, o + p[2]), OP);
    }
  } catch (x) {
    for (let j = i - 1; j >= 0; j--) {
      try {
        pieces[j][0].vmo.write(vmoOffsetOf(pieces[j]), old[j], OP);
      } catch {
        // The backend refuses even the old bytes: the piece keeps the new ones.
      }
    }
    throw x;
  }
}
