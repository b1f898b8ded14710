// Just enough EDN (Clojure's data notation, which Jepsen writes) to read history lines:
// nil, booleans, integers, floats, strings, keywords, vectors, lists and keyword-keyed maps.
// This is the decoding boundary: text in, a typed tree out, nothing untyped escapes.

export class EdnKeyword {
  constructor(readonly name: string) {}
  toString(): string {
    return `:${this.name}`;
  }
}

export type EdnValue = null | boolean | number | string | EdnKeyword | readonly EdnValue[] | EdnMap;

/** A map whose keys are keywords, by keyword name (the only kind Jepsen histories use). */
export class EdnMap {
  constructor(readonly entries: ReadonlyMap<string, EdnValue>) {}
  get(keyword: string): EdnValue | undefined {
    return this.entries.get(keyword);
  }
}

export class EdnSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at column ${offset + 1}`);
    this.name = 'EdnSyntaxError';
  }
}

/** Parses exactly one EDN value; anything but whitespace after it is an error. */
export function readEdn(text: string): EdnValue {
  const reader = new EdnReader(text);
  const value = reader.readValue();
  reader.skipWhitespace();
  if (!reader.atEnd()) throw new EdnSyntaxError('unexpected text after value', reader.offset);
  return value;
}

/** Longest text accepted, so a corrupt line cannot make the reader work for long. */
const EDN_TEXT_LENGTH_MAX = 1 << 20;
const SYMBOL_CHAR = /[A-Za-z0-9*+!\-_?<>=/.#$%&]/;

class EdnReader {
  offset = 0;

  constructor(private readonly text: string) {
    if (text.length > EDN_TEXT_LENGTH_MAX) throw new EdnSyntaxError('text too long', 0);
  }

  atEnd(): boolean {
    return this.offset >= this.text.length;
  }

  skipWhitespace(): void {
    // Commas are whitespace in EDN.
    while (!this.atEnd() && /[\s,]/.test(this.text[this.offset])) this.offset++;
  }

  readValue(): EdnValue {
    this.skipWhitespace();
    if (this.atEnd()) throw new EdnSyntaxError('expected a value', this.offset);
    const c = this.text[this.offset];
    if (c === '"') return this.readString();
    if (c === ':') {
      this.offset++;
      return new EdnKeyword(this.readSymbolText());
    }
    if (c === '[' || c === '(') return this.readSequence(c === '[' ? ']' : ')');
    if (c === '{') return this.readMap();
    const token = this.readSymbolText();
    if (token === 'nil') return null;
    if (token === 'true') return true;
    if (token === 'false') return false;
    if (/^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?N?M?$/.test(token)) return Number(token.replace(/[NM]$/, ''));
    throw new EdnSyntaxError(`unsupported token ${JSON.stringify(token)}`, this.offset - token.length);
  }

  private readSymbolText(): string {
    const start = this.offset;
    while (!this.atEnd() && SYMBOL_CHAR.test(this.text[this.offset])) this.offset++;
    if (this.offset === start) throw new EdnSyntaxError(`unexpected ${JSON.stringify(this.text[start])}`, start);
    return this.text.slice(start, this.offset);
  }

  private readString(): string {
    const escapes: Record<string, string> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r' };
    let out = '';
    this.offset++; // opening quote
    while (!this.atEnd()) {
      const c = this.text[this.offset++];
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const escaped = escapes[this.text[this.offset++]];
      if (escaped === undefined) throw new EdnSyntaxError('unsupported string escape', this.offset - 2);
      out += escaped;
    }
    throw new EdnSyntaxError('unterminated string', this.offset);
  }

  private readSequence(close: string): EdnValue[] {
    this.offset++;
    const items: EdnValue[] = [];
    for (;;) {
      this.skipWhitespace();
      if (this.atEnd()) throw new EdnSyntaxError(`missing ${close}`, this.offset);
      if (this.text[this.offset] === close) {
        this.offset++;
        return items;
      }
      items.push(this.readValue());
    }
  }

  private readMap(): EdnMap {
    this.offset++;
    const entries = new Map<string, EdnValue>();
    for (;;) {
      this.skipWhitespace();
      if (this.atEnd()) throw new EdnSyntaxError('missing }', this.offset);
      if (this.text[this.offset] === '}') {
        this.offset++;
        return new EdnMap(entries);
      }
      const key = this.readValue();
      if (!(key instanceof EdnKeyword)) throw new EdnSyntaxError('map keys must be keywords', this.offset);
      entries.set(key.name, this.readValue());
    }
  }
}
