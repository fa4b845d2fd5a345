/**
 * The public constants carry Zircon's numeric values (types.h, errors.h, rights.h).
 *
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Rights,
  Signals,
  statusName,
  VmoChildOptions,
  VmoOp,
  VmoOptions,
  ZxError,
  ZxStatus,
  ZxVmOption,
} from "../../mod.ts";
import type { SuiteContext } from "./helpers.ts";

/** Register the constant-value tests. */
export function constantsTests(_t: SuiteContext): void {
  describe("constants", () => {
    it("ZxStatus values equal errors.h", () => {
      const expected: Record<string, number> = {
        Ok: 0,
        ErrInternal: -1,
        ErrNotSupported: -2,
        ErrNoResources: -3,
        ErrNoMemory: -4,
        ErrInvalidArgs: -10,
        ErrBadHandle: -11,
        ErrWrongType: -12,
        ErrBadSyscall: -13,
        ErrOutOfRange: -14,
        ErrBufferTooSmall: -15,
        ErrBadState: -20,
        ErrTimedOut: -21,
        ErrShouldWait: -22,
        ErrCanceled: -23,
        ErrPeerClosed: -24,
        ErrNotFound: -25,
        ErrAlreadyExists: -26,
        ErrAlreadyBound: -27,
        ErrUnavailable: -28,
        ErrAccessDenied: -30,
        ErrIo: -40,
        ErrIoRefused: -41,
        ErrIoDataIntegrity: -42,
        ErrIoDataLoss: -43,
        ErrIoNotPresent: -44,
        ErrIoOverrun: -45,
        ErrIoMissedDeadline: -46,
        ErrIoInvalid: -47,
        ErrBadPath: -50,
        ErrNotDir: -51,
        ErrNotFile: -52,
        ErrFileBig: -53,
        ErrNoSpace: -54,
        ErrNotEmpty: -55,
        ErrStop: -60,
        ErrNext: -61,
        ErrAsync: -62,
        ErrProtocolNotSupported: -70,
        ErrAddressUnreachable: -71,
        ErrAddressInUse: -72,
        ErrNotConnected: -73,
        ErrConnectionRefused: -74,
        ErrConnectionReset: -75,
        ErrConnectionAborted: -76,
      };
      const table = ZxStatus as unknown as Record<string, number>;
      for (const [name, value] of Object.entries(expected)) {
        assert.equal(table[name], value, name);
      }
    });

    it("statusName gives Zircon's names", () => {
      assert.equal(statusName(ZxStatus.Ok), "ZX_OK");
      assert.equal(statusName(ZxStatus.ErrBadHandle), "ZX_ERR_BAD_HANDLE");
      assert.equal(statusName(ZxStatus.ErrInvalidArgs), "ZX_ERR_INVALID_ARGS");
      assert.equal(statusName(ZxStatus.ErrOutOfRange), "ZX_ERR_OUT_OF_RANGE");
      assert.equal(statusName(ZxStatus.ErrNoResources), "ZX_ERR_NO_RESOURCES");
      assert.equal(statusName(ZxStatus.ErrAccessDenied), "ZX_ERR_ACCESS_DENIED");
      assert.equal(statusName(ZxStatus.ErrAlreadyExists), "ZX_ERR_ALREADY_EXISTS");
      assert.equal(statusName(ZxStatus.ErrIoDataIntegrity), "ZX_ERR_IO_DATA_INTEGRITY");
      assert.equal(statusName(ZxStatus.ErrNotSupported), "ZX_ERR_NOT_SUPPORTED");
      assert.equal(statusName(ZxStatus.ErrBadState), "ZX_ERR_BAD_STATE");
      assert.equal(statusName(ZxStatus.ErrTimedOut), "ZX_ERR_TIMED_OUT");
      assert.equal(statusName(ZxStatus.ErrCanceled), "ZX_ERR_CANCELED");
      assert.equal(statusName(ZxStatus.ErrUnavailable), "ZX_ERR_UNAVAILABLE");
      assert.equal(statusName(ZxStatus.ErrWrongType), "ZX_ERR_WRONG_TYPE");
      assert.equal(statusName(ZxStatus.ErrNotFound), "ZX_ERR_NOT_FOUND");
      assert.equal(
        statusName(ZxStatus.ErrProtocolNotSupported),
        "ZX_ERR_PROTOCOL_NOT_SUPPORTED",
      );
    });

    it("ZxError carries status, op and a message naming the status", () => {
      const e = new ZxError(ZxStatus.ErrBadHandle, "zx_vmar_map", "test");
      assert.ok(e instanceof Error);
      assert.equal(e.status, ZxStatus.ErrBadHandle);
      assert.equal(e.op, "zx_vmar_map");
      assert.match(e.message, /ZX_ERR_BAD_HANDLE/);
      assert.equal(e.fault, undefined);
    });

    it("ZxVmOption values equal types.h", () => {
      const expected: Record<string, number> = {
        VmPermRead: 0x1,
        VmPermWrite: 0x2,
        VmPermExecute: 0x4,
        VmCompact: 0x8,
        VmSpecific: 0x10,
        VmSpecificOverwrite: 0x20,
        VmCanMapSpecific: 0x40,
        VmCanMapRead: 0x80,
        VmCanMapWrite: 0x100,
        VmCanMapExecute: 0x200,
        VmMapRange: 0x400,
        VmRequireNonResizable: 0x800,
        VmAllowFaults: 0x1000,
        VmOffsetIsUpperLimit: 0x2000,
        VmPermReadIfXomUnsupported: 0x4000,
      };
      const table = ZxVmOption as unknown as Record<string, number>;
      for (const [name, value] of Object.entries(expected)) {
        assert.equal(table[name], value, name);
      }
      const sizes = [
        "1Kb",
        "2Kb",
        "4Kb",
        "8Kb",
        "16Kb",
        "32Kb",
        "64Kb",
        "128Kb",
        "256Kb",
        "512Kb",
        "1Mb",
        "2Mb",
        "4Mb",
        "8Mb",
        "16Mb",
        "32Mb",
        "64Mb",
        "128Mb",
        "256Mb",
        "512Mb",
        "1Gb",
        "2Gb",
        "4Gb",
      ];
      sizes.forEach((s, i) => {
        assert.equal(table[`VmAlign${s}`], (10 + i) * 2 ** 24, `VmAlign${s}`);
      });
      assert.equal(ZxVmOption.VmAlign4Gb, 0x20000000);
    });

    it("VmoOptions, VmoChildOptions and VmoOp values equal types.h", () => {
      assert.deepEqual(
        [VmoOptions.Default, VmoOptions.Resizable, VmoOptions.Discardable],
        [0, 2, 4],
      );
      assert.deepEqual(
        [
          VmoChildOptions.Snapshot,
          VmoChildOptions.Resizable,
          VmoChildOptions.Slice,
          VmoChildOptions.SnapshotAtLeastOnWrite,
          VmoChildOptions.NoWrite,
          VmoChildOptions.Reference,
          VmoChildOptions.SnapshotModified,
        ],
        [0x1, 0x4, 0x8, 0x10, 0x20, 0x40, 0x80],
      );
      assert.deepEqual(
        [
          VmoOp.Commit,
          VmoOp.Decommit,
          VmoOp.Lock,
          VmoOp.Unlock,
          VmoOp.CacheSync,
          VmoOp.CacheInvalidate,
          VmoOp.CacheClean,
          VmoOp.CacheCleanInvalidate,
          VmoOp.Zero,
          VmoOp.TryLock,
          VmoOp.DontNeed,
          VmoOp.AlwaysNeed,
          VmoOp.Prefetch,
        ],
        [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14],
      );
    });

    it("Rights values equal rights.h, with the default VMO and VMAR rights", () => {
      const expected: Record<string, number> = {
        None: 0,
        Duplicate: 1 << 0,
        Transfer: 1 << 1,
        Read: 1 << 2,
        Write: 1 << 3,
        Execute: 1 << 4,
        Map: 1 << 5,
        GetProperty: 1 << 6,
        SetProperty: 1 << 7,
        Enumerate: 1 << 8,
        Destroy: 1 << 9,
        SetPolicy: 1 << 10,
        GetPolicy: 1 << 11,
        Signal: 1 << 12,
        SignalPeer: 1 << 13,
        Wait: 1 << 14,
        Inspect: 1 << 15,
        OpChildren: 1 << 21,
        Resize: 1 << 22,
        SameRights: 0x80000000,
        DefaultVmo: 0xD0EF,
        DefaultVmar: 0x208003,
      };
      const table = Rights as unknown as Record<string, number>;
      for (const [name, value] of Object.entries(expected)) {
        assert.equal(table[name], value, name);
      }
    });

    it("Signals: ZX_VMO_ZERO_CHILDREN and the generic signals", () => {
      assert.equal(Signals.VmoZeroChildren, 0x8);
      const table = Signals as unknown as Record<string, number>;
      for (let i = 0; i < 8; i++) {
        assert.equal(table[`ObjectSignal${i}`], 2 ** i, `ObjectSignal${i}`);
        assert.equal(table[`UserSignal${i}`], 2 ** (24 + i), `UserSignal${i}`);
      }
    });
  });
}
