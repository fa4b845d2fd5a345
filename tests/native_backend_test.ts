/**
 * Tests of the native backend (`src/backend/native.ts` over `ffi_deno.ts`), used directly,
 * without the kernel: real memfds, real mappings, checked against `/proc/self/maps` and
 * `/proc/self/fd`. Deno only; skipped when the native backend is unavailable (no FFI permission,
 * no shim).
 *
 * @module
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { ZxError } from "../src/abi/error.ts";
import { ZxStatus } from "../src/abi/status.ts";
import { Prot } from "../src/backend/types.ts";
import { BackendError } from "../src/backend/error.ts";
import { NativeBackend, type NativeMemory } from "../src/backend/native.ts";
import { loadDenoBackend, resolveShimPath } from "../src/backend/ffi_deno.ts";
import { buildShim } from "../scripts/build_shim.ts";
import { isDeno, nativeSkipReason } from "./support/kernels.ts";
import { leakGuard } from "./support/leaks.ts";

const skip = isDeno
  ? nativeSkipReason() ?? false
  : "the Deno FFI binding needs Deno (the Node binding is ffi_node.ts)";

interface MapsEntry {
  start: number;
  end: number;
  perms: string;
  inode: number;
  path: string;
}

function mapsEntries(): MapsEntry[] {
  return readFileSync("/proc/self/maps", "utf8").trim().split("\n").map((line) => {
    const [range, perms, , , inode, ...rest] = line.split(/\s+/);
    const [s, e] = range.split("-");
    return {
      start: parseInt(s, 16),
      end: parseInt(e, 16),
      perms,
      inode: Number(inode),
      path: rest.join(" "),
    };
  });
}

/** The inode a descriptor of this process refers to. */
function inodeOfFd(fd: number): number {
  return Number(statSync(`/proc/self/fd/${fd}`).ino);
}

/**
 * Descriptors of this process that refer to one of `inodes`. Exact even while other test files
 * open and close descriptors in this process (`deno test --parallel` shares it): a memfd's inode
 * is its own, whatever fd numbers come and go.
 */
function fdsOnInodes(inodes: Set<number>): number {
  let n = 0;
  for (const name of readdirSync("/proc/self/fd")) {
    try {
      if (inodes.has(inodeOfFd(Number(name)))) n++;
    } catch { /* closed meanwhile by another test file */ }
  }
  return n;
}

function entryAt(addr: number): MapsEntry | undefined {
  return mapsEntries().find((m) => m.start <= addr && addr < m.end);
}

function pattern(len: number, seed: number): Uint8Array {
  const a = new Uint8Array(len);
  for (let i = 0; i < len; i++) a[i] = (i * 31 + seed * 7 + 1) & 0xff;
  return a;
}

describe("native backend", { skip }, () => {
  leakGuard();
  let be: NativeBackend;
  let beSyscalls: NativeBackend;
  let ps = 4096;

  before(async () => {
    const path = resolveShimPath();
    let present = false;
    try {
      present = path !== null && Deno.statSync(path).isFile;
    } catch { /* missing */ }
    if (Deno.permissions.querySync({ name: "run", command: "cc" }).state === "granted") {
      await buildShim({ log: () => {}, embed: false }); // tests never rewrite sources
    } else if (!present) {
      throw new Error(`shim library missing at ${path}; run scripts/build_shim.ts first`);
    }
    be = loadDenoBackend({}) as NativeBackend;
    beSyscalls = loadDenoBackend({ physmap: false }) as NativeBackend;
    ps = be.pageSize;
  });

  after(() => {
    be?.close();
    beSyscalls?.close();
  });

  it("the shim takes sizes, offsets and addresses as exact doubles below 2^53 (zxs_num)", () => {
    const c = be.calls;
    const EINVAL = 22;
    const base = Number(c.zxs_reserve(16 * ps));
    assert.ok(base > 0 && Number.isSafeInteger(base), `reserve answered ${base}`);
    try {
      for (const bad of [-1, 0.5, NaN, Infinity, 2 ** 53]) {
        assert.equal(c.zxs_mprotect(bad, ps, 1), -EINVAL, `mprotect(${bad})`);
        assert.equal(c.zxs_mprotect(base, bad, 1), -EINVAL, `mprotect(len ${bad})`);
        assert.equal(c.zxs_reserve_fixed(bad, ps), -EINVAL, `reserve_fixed(${bad})`);
        assert.equal(c.zxs_seek_data(0, bad), -EINVAL, `seek_data(${bad})`);
      }
      assert.equal(c.zxs_mprotect(base, ps, 1), 0, "an exact address works");
      assert.equal(c.zxs_mprotect(base, ps, 0), 0);
    } finally {
      assert.equal(c.zxs_munmap(base, 16 * ps), 0);
    }
  });

  it("reports its shape", () => {
    assert.equal(be.kind, "native");
    assert.equal(ps, 4096);
    assert.equal(be.maxMemorySize, 2 ** 40);
    assert.match(be.reason, /native/);
  });

  it("a mapping appears in /proc/self/maps and returns to the reservation on unmap", () => {
    const as = be.createAddressSpace(64 * ps);
    const mem = be.createMemory(16 * ps);
    try {
      const res = entryAt(as.base)!;
      assert.equal(res.start, as.base);
      assert.equal(res.end, as.base + as.size);
      assert.equal(res.perms, "---p");

      const addr = as.base + 4 * ps;
      as.map(addr, mem, 2 * ps, 8 * ps, Prot.Read | Prot.Write, false);
      let e = entryAt(addr)!;
      assert.equal(e.start, addr);
      assert.equal(e.end, addr + 8 * ps);
      assert.equal(e.perms, "rw-s");
      assert.match(e.path, /memfd:zxvm/);
      assert.equal(entryAt(addr - 1)!.perms, "---p");
      assert.equal(entryAt(addr + 8 * ps)!.perms, "---p");

      as.protect(addr + ps, ps, Prot.Read);
      e = entryAt(addr + ps)!;
      assert.equal(e.perms, "r--s");
      assert.equal(e.start, addr + ps);
      assert.equal(e.end, addr + 2 * ps);

      as.unmap(addr, 8 * ps);
      e = entryAt(addr)!;
      assert.equal(e.perms, "---p");
      assert.equal(e.start, as.base);
      assert.equal(e.end, as.base + as.size);
    } finally {
      mem.close();
      as.close();
    }
    const after = entryAt(as.base);
    assert.ok(
      after === undefined || after.start !== as.base || after.end !== as.base + as.size ||
        after.perms !== "---p",
      "the reservation is released",
    );
  });

  it("maps past the largest memory stay reserved", () => {
    const as = be.createAddressSpace(16 * ps);
    const mem = be.createMemory(ps);
    try {
      const off = be.maxMemorySize - 2 * ps;
      as.map(as.base, mem, off, 4 * ps, Prot.Read, true);
      const e = entryAt(as.base)!;
      assert.equal(e.end, as.base + 2 * ps);
      assert.equal(e.perms, "r--s");
      assert.equal(entryAt(as.base + 2 * ps)!.perms, "---p");
      as.map(as.base, mem, be.maxMemorySize, 4 * ps, Prot.Read, false);
      assert.equal(entryAt(as.base)!.perms, "---p");
    } finally {
      mem.close();
      as.close();
    }
  });

  it("refuses ranges outside the reservation (BackendError ErrInternal)", () => {
    const as = be.createAddressSpace(4 * ps);
    const mem = be.createMemory(ps);
    try {
      assert.throws(
        () => as.map(as.base + 3 * ps, mem, 0, 2 * ps, Prot.Read, false),
        (e: unknown) =>
          e instanceof BackendError && e.status === ZxStatus.ErrInternal &&
          /outside the reservation/.test(e.reason),
      );
      assert.throws(() => as.unmap(as.base - ps, ps), BackendError);
      assert.throws(() => as.protect(as.base + 4 * ps, ps, Prot.Read), BackendError);
    } finally {
      mem.close();
      as.close();
    }
  });

  it("a failed syscall is a BackendError with the errno and what failed, no syscall name", () => {
    // The real shim, with single calls answering -errno as Linux would.
    let memfdFails = false;
    const failing = new NativeBackend({
      ...be.calls,
      zxs_map_fixed: () => -12, // ENOMEM
      zxs_mprotect: () => -13, // EACCES
      zxs_memfd_create: () => memfdFails ? -24 : be.calls.zxs_memfd_create(), // EMFILE
      zxs_punch_hole: () => -95, // EOPNOTSUPP
      unload(): void {}, // the library belongs to `be`
    });
    try {
      const as = failing.createAddressSpace(8 * ps);
      const mem = failing.createMemory(ps);
      const cases: Array<[() => void, ZxStatus, number, string]> = [
        [() => as.map(as.base, mem, 0, ps, Prot.Read, false), ZxStatus.ErrNoMemory, 12, "mmap"],
        [() => as.protect(as.base, ps, Prot.Read), ZxStatus.ErrInternal, 13, "mprotect"],
        [
          () => {
            memfdFails = true;
            failing.createMemory(ps);
          },
          ZxStatus.ErrNoResources,
          24,
          "memfd_create",
        ],
        [() => mem.decommit(0, ps), ZxStatus.ErrInternal, 95, "fallocate"],
      ];
      for (const [fn, status, errno, what] of cases) {
        assert.throws(fn, (e: unknown) => {
          assert.ok(e instanceof BackendError, `${what}: ${e}`);
          assert.ok(!(e instanceof ZxError));
          assert.equal(e.status, status, e.reason);
          assert.equal(e.errno, errno, e.reason);
          assert.match(e.reason, new RegExp(`^${what}.* failed: errno ${errno} \\(E[A-Z]+\\)$`));
          assert.doesNotMatch(e.reason, /zx_/);
          return true;
        });
      }
      // The failed map put the reservation back: the range is inaccessible, not unmapped.
      assert.equal(entryAt(as.base)?.perms, "---p");
      mem.close();
      as.close();
      assert.equal(failing.liveObjects, 0);
    } finally {
      failing.close();
    }
  });

  it("two mappings of one memory alias each other and the memory", () => {
    const as = be.createAddressSpace(32 * ps);
    const mem = be.createMemory(4 * ps);
    try {
      const a = as.base + ps;
      const b = as.base + 16 * ps;
      as.map(a, mem, 0, 4 * ps, Prot.Read | Prot.Write, false);
      as.map(b, mem, ps, 3 * ps, Prot.Read | Prot.Write, true);
      const va = as.view(a, 4 * ps, mem, 0);
      const vb = as.view(b, 3 * ps, mem, ps);
      va[ps + 10] = 0xab;
      assert.equal(vb[10], 0xab);
      vb[2 * ps] = 0xcd;
      assert.equal(va[3 * ps], 0xcd);
      const got = new Uint8Array(2);
      mem.read(ps + 10, got.subarray(0, 1));
      assert.equal(got[0], 0xab);
      mem.write(3 * ps + 5, new Uint8Array([0x5a]));
      assert.equal(va[3 * ps + 5], 0x5a);
      assert.equal(vb[2 * ps + 5], 0x5a);
      be.detach(va);
      be.detach(vb);
      assert.equal(va.length, 0);
      assert.equal(vb.length, 0);
    } finally {
      mem.close();
      as.close();
    }
  });

  for (const physmap of [true, false]) {
    const mb = (): NativeBackend => physmap ? be : beSyscalls;
    describe(physmap ? "memory (physmap windows)" : "memory (pread/pwrite only)", () => {
      it("read/write round-trip, across pages, window growth and resizes", () => {
        const mem = mb().createMemory(4 * ps);
        try {
          const small = pattern(64, 1);
          mem.write(100, small);
          const back = new Uint8Array(64);
          mem.read(100, back);
          assert.deepEqual(back, small);

          const cross = pattern(3 * ps, 2);
          mem.write(ps / 2, cross);
          const back2 = new Uint8Array(3 * ps);
          mem.read(ps / 2, back2);
          assert.deepEqual(back2, cross);

          // Grow well past the first window (64 KiB), write at the end, read everything back.
          mem.resize(1024 * ps);
          assert.equal(mem.size, 1024 * ps);
          const tail = pattern(2 * ps, 3);
          mem.write(1022 * ps, tail);
          const back3 = new Uint8Array(2 * ps);
          mem.read(1022 * ps, back3);
          assert.deepEqual(back3, tail);
          mem.read(ps / 2, back2);
          assert.deepEqual(back2, cross);
          const mid = new Uint8Array(ps);
          mem.read(500 * ps, mid);
          assert.ok(mid.every((b) => b === 0));

          // Shrink discards the tail; growing again reads zeros there.
          mem.resize(2 * ps);
          mem.resize(1024 * ps);
          mem.read(1022 * ps, back3);
          assert.ok(back3.every((b) => b === 0));
          const head = new Uint8Array(ps);
          mem.read(ps / 2, head);
          assert.deepEqual(head, cross.subarray(0, ps));

          mem.resize(0);
          assert.equal(mem.size, 0);
          assert.equal(mem.committedBytes(), 0);
          mem.resize(ps);
          const z = new Uint8Array(ps);
          mem.read(0, z);
          assert.ok(z.every((b) => b === 0));
        } finally {
          mem.close();
        }
      });

      it("a 1 TiB memory is sparse and works across 1 GiB window chunks", () => {
        const mem = mb().createMemory(mb().maxMemorySize);
        try {
          const data = pattern(ps, 4);
          const spots = [0, 2 ** 30 - 100, 3 * 2 ** 30, mb().maxMemorySize - ps];
          for (const off of spots) mem.write(off, data);
          for (const off of spots) {
            const back = new Uint8Array(ps);
            mem.read(off, back);
            assert.deepEqual(back, data, `at ${off}`);
          }
          assert.ok(mem.committedBytes() <= 8 * ps, `committed ${mem.committedBytes()}`);
          const z = new Uint8Array(64);
          mem.read(2 ** 35, z);
          assert.ok(z.every((b) => b === 0));
        } finally {
          mem.close();
        }
      });

      it("reading holes does not commit; decommit reads zero and lowers committedBytes", () => {
        const mem = mb().createMemory(64 * ps);
        try {
          const buf = new Uint8Array(64 * ps);
          mem.read(0, buf);
          assert.equal(mem.committedBytes(), 0);
          mem.write(0, pattern(8 * ps, 5));
          assert.equal(mem.committedBytes(), 8 * ps);
          mem.read(0, buf);
          assert.equal(mem.committedBytes(), 8 * ps);

          mem.decommit(2 * ps, 4 * ps);
          assert.equal(mem.committedBytes(), 4 * ps);
          const got = new Uint8Array(8 * ps);
          mem.read(0, got);
          const want = pattern(8 * ps, 5);
          want.fill(0, 2 * ps, 6 * ps);
          assert.deepEqual(got, want);

          mem.commit(10 * ps, 3 * ps);
          assert.equal(mem.committedBytes(), 7 * ps);
          const c = new Uint8Array(3 * ps);
          mem.read(10 * ps, c);
          assert.ok(c.every((b) => b === 0));

          // zero(): whole pages released, partial pages cleared in place, holes left alone.
          mem.zero(100, 7 * ps);
          mem.read(0, got);
          const want2 = want.slice();
          want2.fill(0, 100, 100 + 7 * ps);
          assert.deepEqual(got, want2);
          assert.equal(mem.committedBytes(), 5 * ps); // pages 0 and 7 + the three committed ones
          mem.zero(40 * ps + 10, 20);
          assert.equal(mem.committedBytes(), 5 * ps);
        } finally {
          mem.close();
        }
      });

      it("copyFrom keeps holes sparse and zero-fills past the source size", () => {
        const src = mb().createMemory(1024 * ps);
        const dst = mb().createMemory(2048 * ps);
        try {
          const a = pattern(ps, 6);
          const b = pattern(ps, 7);
          src.write(3 * ps, a);
          src.write(900 * ps, b);
          dst.write(1500 * ps, pattern(ps, 8)); // overwritten by the copy (source is short there)
          dst.write(0, pattern(ps, 9));
          dst.copyFrom(src, 0, 0, 2048 * ps);
          assert.equal(dst.committedBytes(), 2 * ps);
          const got = new Uint8Array(ps);
          dst.read(3 * ps, got);
          assert.deepEqual(got, a);
          dst.read(900 * ps, got);
          assert.deepEqual(got, b);
          dst.read(1500 * ps, got);
          assert.ok(got.every((x) => x === 0));
          dst.read(0, got);
          assert.ok(got.every((x) => x === 0));

          const part = mb().createMemory(16 * ps);
          try {
            part.copyFrom(src, 2 * ps, 4 * ps, 4 * ps);
            assert.equal(part.committedBytes(), ps);
            part.read(5 * ps, got);
            assert.deepEqual(got, a);
          } finally {
            part.close();
          }
        } finally {
          src.close();
          dst.close();
        }
      });

      it("another process reads the memory through /proc/<pid>/fd/<n>, and writes back", () => {
        const mem = mb().createMemory(2 * ps) as NativeMemory;
        try {
          const msg = new TextEncoder().encode("hello from the parent process");
          mem.write(0, msg);
          const path = `/proc/${Deno.pid}/fd/${mem.fd}`;
          const out: Uint8Array = execFileSync("head", ["-c", String(msg.length), path]);
          assert.equal(new TextDecoder().decode(out), "hello from the parent process");

          execFileSync(
            "sh",
            ["-c", `printf 'child!' | dd of=${path} bs=1 seek=${ps + 7} conv=notrunc`],
            {
              stdio: "ignore",
            },
          );
          const back = new Uint8Array(6);
          mem.read(ps + 7, back);
          assert.equal(new TextDecoder().decode(back), "child!");
        } finally {
          mem.close();
        }
      });
    });
  }

  it("random operations agree with a byte-array model in both modes", () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const maxPages = 40;
    let model = new Uint8Array(8 * ps);
    const a = be.createMemory(8 * ps);
    const b = beSyscalls.createMemory(8 * ps);
    const other = be.createMemory(maxPages * ps);
    other.write(5 * ps, pattern(3 * ps, 11));
    const otherModel = new Uint8Array(maxPages * ps);
    otherModel.set(pattern(3 * ps, 11), 5 * ps);
    try {
      for (let step = 0; step < 600; step++) {
        const size = model.length;
        const op = rnd(8);
        const off = rnd(size + 1);
        const len = rnd(Math.min(size - off, 3 * ps) + 1);
        const pOff = Math.floor(off / ps) * ps;
        const pLen = Math.min(Math.ceil(len / ps) * ps, size - pOff);
        if (op <= 1) {
          const data = pattern(len, step);
          a.write(off, data);
          b.write(off, data);
          model.set(data, off);
        } else if (op === 2) {
          a.zero(off, len);
          b.zero(off, len);
          model.fill(0, off, off + len);
        } else if (op === 3) {
          a.decommit(pOff, pLen);
          b.decommit(pOff, pLen);
          model.fill(0, pOff, pOff + pLen);
        } else if (op === 4) {
          a.commit(pOff, pLen);
          b.commit(pOff, pLen);
        } else if (op === 5) {
          const ns = (rnd(maxPages) + 1) * ps;
          a.resize(ns);
          b.resize(ns);
          const m = new Uint8Array(ns);
          m.set(model.subarray(0, Math.min(ns, size)));
          model = m;
        } else if (op === 6) {
          const so = rnd(maxPages) * ps;
          a.copyFrom(other, so, pOff, pLen);
          b.copyFrom(other, so, pOff, pLen);
          const src = new Uint8Array(pLen);
          src.set(otherModel.subarray(so, Math.min(so + pLen, otherModel.length)));
          model.set(src, pOff);
        }
        const ga = new Uint8Array(len);
        const gb = new Uint8Array(len);
        a.read(off, ga);
        b.read(off, gb);
        assert.deepEqual(ga, model.subarray(off, off + len), `physmap, step ${step} op ${op}`);
        assert.deepEqual(gb, model.subarray(off, off + len), `syscalls, step ${step} op ${op}`);
        assert.equal(a.committedBytes(), b.committedBytes(), `committed, step ${step} op ${op}`);
      }
      const all = new Uint8Array(model.length);
      a.read(0, all);
      assert.deepEqual(all, model);
    } finally {
      a.close();
      b.close();
      other.close();
    }
  });

  it("detach() makes views length 0", () => {
    const as = be.createAddressSpace(8 * ps);
    const mem = be.createMemory(2 * ps);
    try {
      as.map(as.base, mem, 0, 2 * ps, Prot.Read | Prot.Write, false);
      const v = as.view(as.base, 2 * ps, mem, 0);
      const sub = v.subarray(10, 20);
      v[0] = 1;
      be.detach(v);
      assert.equal(v.length, 0);
      assert.equal(v.byteLength, 0);
      assert.equal(sub.length, 0);
      be.detach(v); // idempotent
      assert.equal(as.view(as.base, 0, mem, 0).length, 0);
      const r = new Uint8Array(1);
      mem.read(0, r);
      assert.equal(r[0], 1);
      as.unmap(as.base, 2 * ps);
    } finally {
      mem.close();
      as.close();
    }
  });

  it("reports a missing library as ErrNotSupported naming the path", () => {
    assert.throws(
      () => loadDenoBackend({ shimPath: "/nonexistent/libzxshim.so" }),
      (e: unknown) =>
        e instanceof ZxError && e.status === ZxStatus.ErrNotSupported &&
        e.op === "zx_kernel_open" && e.message.includes("/nonexistent/libzxshim.so"),
    );
  });

  it("a hostile but in-contract sequence in a subprocess exits 0", async () => {
    const mod = new URL("../src/backend/ffi_deno.ts", import.meta.url).href;
    const code = `
      import { loadDenoBackend } from ${JSON.stringify(mod)};
      const be = loadDenoBackend({});
      const ps = be.pageSize;
      const as = be.createAddressSpace(1024 * ps);
      const mems = [];
      for (let round = 0; round < 200; round++) {
        const mem = be.createMemory((round % 7 + 1) * ps);
        mems.push(mem);
        const addr = as.base + (round % 100) * 8 * ps;
        as.map(addr, mem, 0, 8 * ps, 3, round % 2 === 0); // longer than the memory
        const v = as.view(addr, mem.size, mem, 0);
        v.fill(round & 0xff);
        be.detach(v);
        as.protect(addr, 8 * ps, round % 3);
        mem.resize(ps);              // shrink under the mapping (no views alive)
        mem.resize(64 * ps);         // and grow back past the window
        mem.write(63 * ps, new Uint8Array(ps).fill(7));
        mem.read(0, new Uint8Array(64 * ps));
        mem.zero(1, 3 * ps);
        mem.decommit(0, 64 * ps);
        as.map(addr, mem, 2 ** 40 - ps, 8 * ps, 1, true); // replace, mostly past the max
        if (round % 5 === 0) as.unmap(addr, 8 * ps);
        if (round % 4 === 0) as.unmap(as.base, 1024 * ps);
        if (mems.length > 3) {
          const old = mems.shift();
          const copy = be.createMemory(old.size);
          copy.copyFrom(old, 0, 0, old.size);
          copy.close();
        }
      }
      as.unmap(as.base, 1024 * ps);
      for (const m of mems) m.close();
      as.close();
      const leak = be.createMemory(ps); // closed by backend.close()
      leak.write(0, new Uint8Array([1]));
      be.close();
      console.log("survived");
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", code],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `exit ${out.code} signal ${out.signal}: ${err}`);
    assert.match(new TextDecoder().decode(out.stdout), /survived/);
  });

  it("retire: private zero pages in one step, left mapped by close()", () => {
    const as = be.createAddressSpace(16 * ps);
    const mem = be.createMemory(4 * ps);
    const addr = as.base + 4 * ps;
    as.map(addr, mem, 0, 4 * ps, Prot.Read | Prot.Write, false);
    mem.write(0, new Uint8Array([1, 2, 3]));
    as.retire(addr + ps, 2 * ps);
    let e = entryAt(addr + ps)!;
    assert.equal(e.perms, "rw-p", "private, readable and writable");
    assert.equal(e.inode, 0, "anonymous");
    assert.equal(e.start, addr + ps);
    assert.equal(e.end, addr + 3 * ps);
    assert.equal(entryAt(addr)!.perms, "rw-s", "the rest stays mapped");
    const view = as.view(addr + ps, ps, mem, ps);
    assert.equal(view[0], 0);
    view[0] = 9; // writable, and not the memfd
    const back = new Uint8Array(1);
    mem.read(ps, back);
    assert.equal(back[0], 0);
    be.detach(view);
    as.unmap(addr, ps);
    as.unmap(addr + 3 * ps, ps);
    mem.close();
    as.close();
    e = entryAt(addr + ps)!;
    assert.ok(e !== undefined && e.perms === "rw-p", "the retired range outlives close()");
  });

  it("everything closed: the memfds' descriptors and mappings are gone", () => {
    const objs = [];
    for (let i = 0; i < 10; i++) {
      const m = be.createMemory((i + 1) * ps);
      m.write(0, new Uint8Array([i]));
      m.read(0, new Uint8Array(1));
      objs.push(m);
    }
    const inodes = new Set(objs.map((m) => inodeOfFd(m.fd)));
    assert.equal(inodes.size, 10, "ten distinct memfds");
    const as = be.createAddressSpace(64 * ps);
    as.map(as.base, objs[0], 0, ps, Prot.Read, false);
    assert.equal(fdsOnInodes(inodes), 10);
    assert.ok(mapsEntries().some((e) => e.start === as.base && inodes.has(e.inode)));
    as.unmap(as.base, ps);
    for (const m of objs) m.close();
    as.close();
    assert.equal(be.liveObjects, 0);
    assert.equal(beSyscalls.liveObjects, 0);
    assert.equal(fdsOnInodes(inodes), 0, "every memfd descriptor closed");
    assert.equal(
      mapsEntries().filter((e) => inodes.has(e.inode)).length,
      0,
      "no window or mapping of these memfds left",
    );
  });
});
