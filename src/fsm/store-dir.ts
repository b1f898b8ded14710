// The state store's directory: several RocksDB databases side by side (db-000001, db-000002...)
// and a CURRENT file naming the live one. A snapshot from the leader is built in a new database
// beside the live one and made live by replacing CURRENT atomically (write, fsync, rename, fsync
// the directory): a crash at any moment leaves CURRENT naming either the old or the new one.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

const CURRENT = 'CURRENT';
const MODEL_IMAGE = 'model.image';
const DB_PATTERN = /^db-(\d{6})(\.staging)?$/;

export class StoreDir {
  private constructor(
    readonly root: string,
    private liveName: string,
  ) {}

  /** Opens (creating) the directory and removes databases that CURRENT does not name (leftovers of a crash). */
  static async open(root: string): Promise<StoreDir> {
    await fsp.mkdir(root, { recursive: true });
    let live: string;
    try {
      live = (await fsp.readFile(path.join(root, CURRENT), 'utf8')).trim();
      if (!DB_PATTERN.test(live) || live.endsWith('.staging')) throw new Error(`CURRENT in ${root} names "${live}", not a database`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      live = 'db-000001';
      await writeAtomically(root, CURRENT, live);
    }
    const dir = new StoreDir(root, live);
    for (const name of await fsp.readdir(root)) {
      if (DB_PATTERN.test(name) && name !== live) await fsp.rm(path.join(root, name), { recursive: true, force: true });
    }
    return dir;
  }

  get livePath(): string {
    return path.join(this.root, this.liveName);
  }

  /** The live database's directory name (CURRENT's content). */
  get live(): string {
    return this.liveName;
  }

  /** Where a clean stop leaves the model image (model-image.ts), beside the databases. */
  get imagePath(): string {
    return path.join(this.root, MODEL_IMAGE);
  }

  /** Makes renames and unlinks in the directory durable. */
  syncRoot(): void {
    fsyncDir(this.root);
  }

  /** A fresh path for the next database, beside the live one. */
  async newStagingPath(): Promise<string> {
    const next = `db-${String(Number(DB_PATTERN.exec(this.liveName)![1]) + 1).padStart(6, '0')}.staging`;
    const staging = path.join(this.root, next);
    await fsp.rm(staging, { recursive: true, force: true });
    return staging;
  }

  /** Makes the (flushed, closed) staging database live; returns the path of the old one to delete. */
  async promote(stagingPath: string): Promise<{ livePath: string; oldPath: string }> {
    const finalName = path.basename(stagingPath).replace(/\.staging$/, '');
    await fsp.rename(stagingPath, path.join(this.root, finalName));
    fsyncDir(this.root);
    const oldPath = this.livePath;
    await writeAtomically(this.root, CURRENT, finalName);
    this.liveName = finalName;
    return { livePath: this.livePath, oldPath };
  }
}

async function writeAtomically(root: string, name: string, content: string): Promise<void> {
  const tmp = path.join(root, `${name}.tmp`);
  const handle = await fsp.open(tmp, 'w');
  try {
    await handle.writeFile(content + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fsp.rename(tmp, path.join(root, name));
  fsyncDir(root);
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
