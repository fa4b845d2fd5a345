/**
 * Cost of crossing into the C shim through Deno FFI, and of the native backend's hot paths
 * compared with the syscalls they avoid.
 *
 * ```sh
 * deno run -A scripts/build_shim.ts && deno bench --allow-all bench/ffi_calls.bench.ts
 * ```
 *
 * @module
 */
import { Prot } from "../src/backend/types.ts";
import { rawShim } from "./_common.ts";

const { be, calls: s } = rawShim();
const ps = be.pageSize;

const mem = be.createMemory(256 * ps);
mem.write(0, new Uint8Array(256 * ps).fill(1)); // commit everything
const fd = mem.fd;
const as = be.createAddressSpace(1024 * ps);
as.map(as.base, mem, 0, 16 * ps, Prot.Read | Prot.Write, false);
const addr = as.base;

const b64 = new Uint8Array(64).fill(3);
const b4k = new Uint8Array(4096).fill(4);
const d64 = new Uint8Array(64);
const d4k = new Uint8Array(4096);
let sink = 0;

Deno.bench("js: empty function call (baseline)", () => {
  sink += 1;
});
Deno.bench("ffi: zxs_version() -> i32 (no syscall)", { group: "ffi" }, () => {
  sink += s.zxs_version();
});
Deno.bench("ffi: zxs_punch_hole(fd, 0, 0) (len 0: no syscall, number args)", {
  group: "ffi",
}, () => {
  sink += s.zxs_punch_hole(fd, 0, 0);
});
Deno.bench("ffi: zxs_pread(fd, buffer 64, 0, 0) (len 0: no syscall, a buffer)", {
  group: "ffi",
}, () => {
  sink += Number(s.zxs_pread(fd, d64, 0, 0));
});
Deno.bench("ffi: zxs_page_size() -> i64 bigint (sysconf)", { group: "ffi" }, () => {
  sink += Number(s.zxs_page_size());
});
Deno.bench("ffi: zxs_fstat_blocks(fd) (fstat syscall)", { group: "ffi" }, () => {
  sink += Number(s.zxs_fstat_blocks(fd));
});
Deno.bench("ffi: zxs_mprotect(addr, 4096, rw) (syscall)", { group: "ffi" }, () => {
  s.zxs_mprotect(addr, 4096, 3);
});
Deno.bench("ffi: zxs_seek_data(fd, 0) (lseek)", { group: "ffi" }, () => {
  sink += Number(s.zxs_seek_data(fd, 0));
});

Deno.bench("C pread 64 B (zxs_pread)", { group: "rw64", baseline: true }, () => {
  s.zxs_pread(fd, d64, 64, 4096);
});
Deno.bench("C pwrite 64 B (zxs_pwrite)", { group: "rw64" }, () => {
  s.zxs_pwrite(fd, b64, 64, 4096);
});
Deno.bench("memory.read 64 B (physmap window)", { group: "rw64" }, () => {
  mem.read(4096, d64);
});
Deno.bench("memory.write 64 B (physmap window)", { group: "rw64" }, () => {
  mem.write(4096, b64);
});
Deno.bench("C pread 4 KiB (zxs_pread)", { group: "rw4k", baseline: true }, () => {
  s.zxs_pread(fd, d4k, 4096, 8192);
});
Deno.bench("memory.read 4 KiB (physmap window)", { group: "rw4k" }, () => {
  mem.read(8192, d4k);
});
Deno.bench("memory.write 4 KiB (physmap window)", { group: "rw4k" }, () => {
  mem.write(8192, b4k);
});

Deno.bench("viewAt 64 B (getArrayBuffer)", { group: "map" }, () => {
  sink += be.calls.viewAt(as.base, 64).length;
});
let slot = 0;
Deno.bench("map + unmap 4 pages (2 x mmap MAP_FIXED)", { group: "map" }, () => {
  const a = as.base + 64 * ps + (slot++ % 64) * 8 * ps;
  as.map(a, mem, 0, 4 * ps, Prot.Read | Prot.Write, false);
  as.unmap(a, 4 * ps);
});

globalThis.addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
