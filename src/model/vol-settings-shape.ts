// The type of every VolSettings field, so commands (msgpack) and records (JSON) decode settings
// with one table: a full set in records and vol.createBegin, any subset in vol.update.

import { CodecError } from './errors.js';
import type { Obj } from './shape.js';
import { asObject, readBool, readInt, readString } from './shape.js';
import type { VolSettings } from './vol-state.js';
import { VOL_SETTING_KEYS } from './vol-state.js';

type SettingType = 'string' | 'bool' | 'int';

const SETTING_TYPES: { readonly [K in keyof VolSettings]: SettingType } = {
  description: 'string',
  zoneName: 'string',
  crossZone: 'bool',
  normalZonesFirst: 'bool',
  followerRead: 'bool',
  metaFollowerRead: 'bool',
  directRead: 'bool',
  maximallyRead: 'bool',
  ignoreTinyRecover: 'bool',
  authenticate: 'bool',
  dpReadOnlyWhenVolFull: 'bool',
  enablePosixAcl: 'bool',
  enableQuota: 'bool',
  deleteLockTimeHours: 'int',
  txMask: 'string',
  txTimeoutMin: 'int',
  txConflictRetryNum: 'int',
  txConflictRetryIntervalMs: 'int',
  trashIntervalMin: 'int',
  accessTimeValidIntervalSec: 'int',
  enablePersistAccessTime: 'bool',
  ebsBlkSizeBytes: 'int',
  leaderRetryTimeoutSec: 'int',
  dpSelectorName: 'string',
  dpSelectorParm: 'string',
  autoDpMetaRepair: 'bool',
  forbidWriteOpOfProtoVer0: 'bool',
  domainId: 'int',
};

function readSetting(o: Obj, key: keyof VolSettings, path: string): string | boolean | number {
  switch (SETTING_TYPES[key]) {
    case 'string':
      return readString(o, key, path);
    case 'bool':
      return readBool(o, key, path);
    case 'int':
      return readInt(o, key, 0, Number.MAX_SAFE_INTEGER, path);
  }
}

/** Decode settings at `path`: every key when `partial` is false, any known subset when true. */
export function decodeVolSettings(v: unknown, path: string, partial: false): VolSettings;
export function decodeVolSettings(v: unknown, path: string, partial: true): Partial<VolSettings>;
export function decodeVolSettings(v: unknown, path: string, partial: boolean): Partial<VolSettings> {
  const o = asObject(v, path);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) {
    if (!(k in SETTING_TYPES)) throw new CodecError(`${path}.${k}`, 'unknown field');
  }
  for (const key of VOL_SETTING_KEYS) {
    if (!(key in o)) {
      if (partial) continue;
      throw new CodecError(`${path}.${key}`, 'missing field');
    }
    out[key] = readSetting(o, key, path);
  }
  return out;
}

/** Settings as a plain object with keys in VOL_SETTING_KEYS order (stable bytes in records). */
export function settingsInOrder(s: VolSettings): Record<string, string | boolean | number> {
  const out: Record<string, string | boolean | number> = {};
  for (const key of VOL_SETTING_KEYS) out[key] = s[key];
  return out;
}
