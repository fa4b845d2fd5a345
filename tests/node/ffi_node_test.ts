/**
 * Node-only tests of the koffi binding (`src/backend/ffi_node.ts`), run by `node --test` on the
 * built package (`npm/tests/node/`). Skipped under Deno, which uses `ffi_deno.ts`.
 *
 * The view tests touch memory after it is unmapped: if a view were not really detached, the
 * test process would die with SIGSEGV, which `node --test` reports as a failure.
 *
 * @module
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Kernel, VmoOptions, ZxError, ZxStatus, ZxVmOption } from "../../mod.ts";
import * as nodeBinding from "../../src/backend/ffi_node.ts";
import { compileShim, koffiDeclarations, loadNodeBackend } from "../../src/backend/ffi_node.ts";
import type { NodeBinding } from "../../src/backend/select.ts";
import type { NativeBackend } from "../../src/backend/native.ts";
import { SHIM_VERSION, shimSymbols } from "../../src/backend/shim_symbols.ts";
import type { Backend } from "../../src/backend/types.ts";
import { isDeno, nativeSkipReason } from "../support/kernels.ts";

// select.ts loads this module by a non-literal specifier: the type system checks the shape here.
const _nodeBindingShape: NodeBinding = nodeBinding;

const skip = isDeno ? "Deno uses ffi_deno.ts" : nativeSkipReason() ?? false;
const RW = ZxVmOption.VmPermRead | ZxVmOption.VmPermWrite;
const hasTransfer =
  typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === "function";

function hasCc(): boolean {
  try {
    execFileSync(process.env.CC || "cc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("ffi_node (koffi)", { skip }, () => {
  it("declares every function of shim_symbols.ts (and only those) from the table", () => {
    const decls = koffiDeclarations();
    assert.deepEqual(decls.map((d) => d.name), Object.keys(shimSymbols));
    for (const d of decls) {
      assert.equal(d.params.length, shimSymbols[d.name].parameters.length, d.name);
    }
    const b = loadNodeBackend() as NativeBackend;
    try {
      for (const name of Object.keys(shimSymbols)) {
        assert.equal(
          typeof (b.calls as unknown as Record<string, unknown>)[name],
          "function",
          name,
        );
      }
      assert.equal(Number(b.calls.zxs_version()), SHIM_VERSION);
      assert.equal(Number(b.calls.zxs_page_size()), b.pageSize);
    } finally {
      b.close();
    }
  });

  it("loads the shim and round-trips memory through a mapped view", () => {
    const b: Backend = loadNodeBackend();
    try {
      assert.equal(b.kind, "native");
      assert.match(b.reason, /koffi/);
      assert.equal(b.pageSize, 4096);
      const mem = b.createMemory(2 * 4096);
      mem.write(10, new Uint8Array([9, 8, 7]));
      const as = b.createAddressSpace(1 << 20);
      const addr = as.base + 4096;
      as.map(addr, mem, 0, 2 * 4096, 3, false);
      const v = as.view(addr, 2 * 4096, mem, 0);
      assert.deepEqual([...v.subarray(10, 13)], [9, 8, 7]);
      v[5000] = 77;
      const back = new Uint8Array(1);
      mem.read(5000, back);
      assert.equal(back[0], 77);
      b.detach(v);
      as.unmap(addr, 2 * 4096);
      assert.equal(v.length, 0);
      assert.equal(v[0], undefined); // would be SIGSEGV if the view still reached the memory
      mem.close();
      as.close();
    } finally {
      b.close();
    }
  });

  it("detach revokes every typed array over a view, and detaching twice is harmless", () => {
    const b = loadNodeBackend();
    try {
      const mem = b.createMemory(4096);
      const as = b.createAddressSpace(1 << 16);
      as.map(as.base, mem, 0, 4096, 3, false);
      const v = as.view(as.base, 4096, mem, 0);
      const sub = v.subarray(100, 200);
      const dv = new DataView(v.buffer);
      b.detach(v);
      b.detach(v);
      as.unmap(as.base, 4096);
      assert.equal(v.length, 0);
      assert.equal(sub.length, 0);
      assert.equal(v.buffer.byteLength, 0);
      assert.throws(() => dv.getUint8(0), TypeError);
      assert.throws(() => new Uint8Array(v.buffer, 0, 1), TypeError);
      v[0] = 1; // ignored: out of bounds on a detached buffer
      mem.close();
      as.close();
    } finally {
      b.close();
    }
  });

  it(
    "structuredClone does not detach a koffi.view buffer on Node 20 (why ffi_node uses V8's transfer)",
    {
      skip: hasTransfer ? "this runtime has ArrayBuffer.prototype.transfer" : false,
    },
    () => {
      const koffi = createRequire(import.meta.url)("koffi") as {
        alloc(t: string, n: number): bigint;
        view(p: bigint, n: number): ArrayBuffer;
        free(p: bigint): void;
      };
      const p = koffi.alloc("uint8_t", 64);
      try {
        const ab = koffi.view(p, 64);
        structuredClone(ab, { transfer: [ab] });
        assert.equal(ab.byteLength, 64, "Node copies untransferable external buffers");
        // A plain ArrayBuffer, by contrast, is detached by the same call.
        const plain = new ArrayBuffer(8);
        structuredClone(plain, { transfer: [plain] });
        assert.equal(plain.byteLength, 0);
      } finally {
        koffi.free(p);
      }
    },
  );

  it("Mapping.bytes() views are detached on unmap, on protect and on VMO shrink", () => {
    using k = Kernel.open({ backend: "native" });
    assert.equal(k.backend, "native");
    const ps = k.pageSize;
    const vmo = k.createVmo(4 * ps, VmoOptions.Resizable);
    const m1 = k.rootVmar.map(RW, 0, vmo, 0, 4 * ps);
    const b1 = m1.bytes();
    b1[0] = 1;
    assert.equal(vmo.read(1, 0)[0], 1);
    m1.unmap();
    assert.equal(b1.length, 0);
    assert.equal(b1[0], undefined);

    const m2 = k.rootVmar.map(RW, 0, vmo, 0, 4 * ps);
    const b2 = m2.bytes();
    k.rootVmar.protect(ZxVmOption.VmPermRead, m2.addr, 4 * ps);
    assert.equal(b2.length, 0);
    b2[0] = 2; // a write through a stale view would fault (SIGSEGV) on read-only memory
    assert.equal(vmo.read(1, 0)[0], 1);
    m2.unmap();

    const m3 = k.rootVmar.map(RW, 0, vmo, 0, 4 * ps);
    const b3 = m3.bytes();
    vmo.setSize(ps);
    assert.equal(b3.length, 0);
    assert.equal(b3[3 * ps], undefined); // past the new end: would be SIGBUS if still attached
    m3.unmap();
  });

  it("auto picks the koffi backend under Node when the shim loads", () => {
    using k = Kernel.open({ backend: "auto" });
    assert.equal(k.backend, "native");
    assert.match(k.backendReason, /koffi/);
  });

  it("a missing shim is ErrNotSupported naming the path", () => {
    const path = "/nonexistent/zxvm/libzxshim.so";
    assert.throws(() => loadNodeBackend({ shimPath: path }), (e: unknown) => {
      assert.ok(e instanceof ZxError);
      assert.equal(e.status, ZxStatus.ErrNotSupported);
      assert.equal(e.op, "zx_kernel_open");
      assert.match(e.message, /\/nonexistent\/zxvm\/libzxshim\.so/);
      return true;
    });
  });

  it("compiles the shim on demand from the shipped source", { skip: !hasCc() && "no cc" }, () => {
    const dir = mkdtempSync(join(tmpdir(), "zxvm-shim-"));
    try {
      const path = compileShim(undefined, dir);
      // The same name the Deno binding's cache uses: version, build key, os-arch as Deno spells it.
      assert.match(path, /libzxshim-\d+\.\d+\.\d+[^-]*-[0-9a-f]{16}-linux-[a-z0-9_]+\.so$/);
      assert.doesNotMatch(path, /-x64\.so$/);
      assert.equal(compileShim(undefined, dir), path, "cached by source hash");
      const b = loadNodeBackend({ shimPath: path });
      const mem = b.createMemory(4096);
      mem.write(1, new Uint8Array([42]));
      const out = new Uint8Array(2);
      mem.read(0, out);
      assert.deepEqual([...out], [0, 42]);
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
