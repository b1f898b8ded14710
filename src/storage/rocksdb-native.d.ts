// Types for the part of rocksdb-native (3.18, CommonJS, ships no types) that state-store.ts uses.
// Only state-store.ts may import the module: it owns the native handle.
// Behaviour notes (read from node_modules/rocksdb-native/{index.js,lib/*.js,binding.cc} and
// librocksdb's src/rocksdb.cc, and measured) are in state-store.ts.

declare module 'rocksdb-native' {
  namespace RocksDB {
    interface OpenOptions {
      createIfMissing?: boolean;
      /** Memtable size per column family before RocksDB switches to a new one and flushes. */
      writeBufferSize?: number;
      maxBackgroundJobs?: number;
      /** constants.walRecoveryMode; POINT_IN_TIME (2) by default. */
      walRecoveryMode?: number;
    }

    interface IteratorOptions {
      gt?: Uint8Array | null;
      gte?: Uint8Array | null;
      lt?: Uint8Array | null;
      lte?: Uint8Array | null;
      reverse?: boolean;
      limit?: number;
      /** Entries fetched per native read. */
      capacity?: number;
      values?: boolean;
    }

    interface Entry {
      key: Buffer;
      value: Buffer;
    }

    /** A streamx Readable of entries. */
    interface Iterator extends AsyncIterable<Entry> {
      readonly destroyed: boolean;
      /** streamx: the next buffered entry, or null when none is buffered now (a read ahead starts). */
      read(): Entry | null;
      destroy(err?: Error | null): void;
      once(event: 'close', listener: () => void): this;
      on(event: 'readable' | 'end' | 'close', listener: () => void): this;
      on(event: 'error', listener: (err: Error) => void): this;
      off(event: 'readable' | 'end' | 'close', listener: () => void): this;
      off(event: 'error', listener: (err: Error) => void): this;
    }

    interface WriteBatch {
      tryPut(key: Uint8Array, value: Uint8Array): void;
      tryDelete(key: Uint8Array): void;
      tryDeleteRange(start: Uint8Array, end: Uint8Array): void;
      flush(): Promise<void>;
      destroy(): void;
    }

    interface WriteBatchOptions {
      capacity?: number;
    }
  }

  class RocksDB {
    constructor(path: string, options?: RocksDB.OpenOptions);
    readonly opened: boolean;
    readonly closed: boolean;
    ready(): Promise<void>;
    close(options?: { force?: boolean }): Promise<void>;
    isRoot(): boolean;
    get(key: Uint8Array): Promise<Buffer | null>;
    write(options?: RocksDB.WriteBatchOptions): RocksDB.WriteBatch;
    iterator(range: RocksDB.IteratorOptions): RocksDB.Iterator;
    /** A session reading from a RocksDB snapshot taken now; close() releases it. */
    snapshot(): RocksDB;
    flush(): Promise<void>;
  }

  export = RocksDB;
}
