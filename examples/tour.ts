/**
 * A tour of zxvm: the origin document's two operations — `zx_vmo_create` (`Vmo.create`) and
 * `zx_vmar_map` (`Vmar.map`) — then every error that document lists, provoked and printed
 * with its Zircon status name. Run it with `npm run demo`.
 *
 * @module
 */
import {
  Kernel,
  Rights,
  statusName,
  Vmar,
  Vmo,
  VmoOptions,
  ZxError,
  ZxStatus,
  ZxVmOption as O,
} from "../mod.ts";

const P = 4096;
const RW = O.VmPermRead | O.VmPermWrite;
const out = (s: string): void => console.log(s);

/** Run `fn`, expecting it to fail with `expected`; print the outcome. */
function provoke(what: string, expected: ZxStatus, fn: () => unknown): void {
  try {
    fn();
    out(`  !! ${what}: succeeded, expected ${statusName(expected)}`);
    process.exitCode = 1;
  } catch (e) {
    if (!(e instanceof ZxError)) throw e;
    const mark = e.status === expected ? "ok" : "!!";
    if (e.status !== expected) process.exitCode = 1;
    out(`  ${mark} ${statusName(e.status).padEnd(22)} ${what}`);
    out(`       ${e.message}`);
  }
}

const kernel = Kernel.default;
out(
  `zxvm tour — backend: ${kernel.backend} (${kernel.backendReason}), page size ${kernel.pageSize}`,
);

out("\n1. zx_vmo_create — Vmo.create(size, options)");
using vmo = Vmo.create(10_000);
out(`  Vmo.create(10000): size ${vmo.size} (rounded up to pages), content size ${vmo.contentSize}`);
out(`  rights 0x${vmo.rights.toString(16)} (ZX_DEFAULT_VMO_RIGHTS), koid ${vmo.koid}`);
using resizable = Vmo.create(P, VmoOptions.Resizable);
out(
  `  Vmo.create(4096, Resizable): options honoured — RESIZE right ${
    (resizable.rights & Rights.Resize) !== 0
  }; setSize(3 pages) -> ${(resizable.setSize(3 * P), resizable.size)}`,
);

out("\n2. zx_vmar_map — Vmar.root().map(options, vmarOffset, vmo, vmoOffset, len)");
const root = Vmar.root();
{
  using m = root.map(RW, 0, vmo, 0, vmo.size);
  out(`  mapped ${m.len} bytes at 0x${m.addr.toString(16)} (page aligned, non-zero)`);
  m.write(0, new TextEncoder().encode("hello, zircon"));
  out(`  wrote through the mapping; vmo.read -> "${new TextDecoder().decode(vmo.read(13, 0))}"`);
  const dup = vmo.duplicate();
  const m2 = root.map(O.VmPermRead, 0, dup, 0, P);
  dup.close();
  out(
    `  closed the VMO handle behind a second mapping; it still reads "${
      new TextDecoder().decode(m2.read(0, 5))
    }"`,
  );
  m2.unmap();
}

out("\n3. Every error the origin document lists for Map, provoked:");
const closed = vmo.duplicate();
closed.close();
provoke(
  "handle or vmo is not a valid handle (a closed VMO)",
  ZxStatus.ErrBadHandle,
  () => root.map(O.VmPermRead, 0, closed, 0, P),
);
provoke(
  "vmo is not a VMO (a VMAR passed as vmo)",
  ZxStatus.ErrWrongType,
  () => root.map(O.VmPermRead, 0, root as unknown as Vmo, 0, P),
);
{
  using sub = root.allocate(O.VmCanMapRead | O.VmCanMapWrite, 0, 16 * P);
  sub.destroy();
  provoke(
    "handle refers to a destroyed VMAR",
    ZxStatus.ErrBadState,
    () => sub.map(O.VmPermRead, 0, vmo, 0, P),
  );
}
provoke(
  "vmar_offset non-zero without SPECIFIC/SPECIFIC_OVERWRITE",
  ZxStatus.ErrInvalidArgs,
  () => root.map(O.VmPermRead, P, vmo, 0, P),
);
provoke(
  "SPECIFIC_OVERWRITE together with MAP_RANGE",
  ZxStatus.ErrInvalidArgs,
  () => root.map(O.VmPermRead | O.VmSpecificOverwrite | O.VmMapRange, P, vmo, 0, P),
);
provoke(
  "vmar_offset + len exceed the region bounds",
  ZxStatus.ErrInvalidArgs,
  () => root.map(O.VmPermRead | O.VmSpecific, root.len - P, vmo, 0, 2 * P),
);
provoke(
  "vmo_offset not page aligned",
  ZxStatus.ErrInvalidArgs,
  () => root.map(O.VmPermRead, 0, vmo, 100, P),
);
provoke(
  "options not valid (an unknown bit)",
  ZxStatus.ErrInvalidArgs,
  () => root.map(O.VmPermRead | (1 << 20), 0, vmo, 0, P),
);
provoke(
  "vmo_offset + ROUNDUP(len) overflows (the origin doc says INVALID_ARGS; the kernel says OUT_OF_RANGE)",
  ZxStatus.ErrOutOfRange,
  () => root.map(O.VmPermRead, 0, vmo, 2n ** 64n - BigInt(P), P),
);
{
  using readOnly = vmo.duplicate(Rights.Read | Rights.Map);
  provoke(
    "insufficient privileges (PERM_WRITE with a read-only VMO handle)",
    ZxStatus.ErrAccessDenied,
    () => root.map(RW, 0, readOnly, 0, P),
  );
}
{
  using noSpecific = root.allocate(O.VmCanMapRead, 0, 16 * P);
  provoke(
    "SPECIFIC in a VMAR without CAN_MAP_SPECIFIC",
    ZxStatus.ErrAccessDenied,
    () => noSpecific.map(O.VmPermRead | O.VmSpecific, 0, vmo, 0, P),
  );
}
provoke(
  "the VMO is resizable and REQUIRE_NON_RESIZABLE was requested",
  ZxStatus.ErrNotSupported,
  () => root.map(O.VmPermRead | O.VmRequireNonResizable, 0, resizable, 0, P),
);
{
  using m = root.map(O.VmPermRead, 0, vmo, 0, P);
  provoke(
    "(kernel, not in the origin doc) SPECIFIC over an existing mapping",
    ZxStatus.ErrAlreadyExists,
    () => root.map(O.VmPermRead | O.VmSpecific, m.addr - root.base, vmo, 0, P),
  );
}
{
  using small = root.allocate(O.VmCanMapRead, 0, P);
  using _m = small.map(O.VmPermRead, 0, vmo, 0, P);
  provoke(
    "(kernel, not in the origin doc) no room left in the VMAR",
    ZxStatus.ErrNoResources,
    () => small.map(O.VmPermRead, 0, vmo, 0, P),
  );
}
out(
  "  -- ErrNoMemory (lack of memory) cannot be provoked on demand; the testing kit's fault " +
    "injection simulates it (see README, 'Testing your code').",
);

out("\n4. Every error the origin document lists for Create, provoked:");
provoke(
  "options not valid (bit 0, the obsolete ZX_VMO_NON_RESIZABLE)",
  ZxStatus.ErrInvalidArgs,
  () => Vmo.create(P, 1),
);
provoke(
  "size too large (beyond zxvm's 2^40-byte maximum)",
  ZxStatus.ErrOutOfRange,
  () => Vmo.create(2 ** 40 + 1),
);
provoke("size outside the u64 domain (-1)", ZxStatus.ErrInvalidArgs, () => Vmo.create(-1));

out(`\nDone. Live handles before closing the kernel: ${kernel.handleCount}.`);
