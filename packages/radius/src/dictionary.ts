/**
 * RADIUS attribute definitions from FreeRADIUS-format dictionary files, through the `radius`
 * package. Code names attributes and never numbers them: the numbers come from the dictionary an
 * operator points the server at, so a vendor's own dictionary can replace a shipped one.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import radius from 'radius';

export interface DecodedPacket {
  code: string;
  identifier: number;
  length: number;
  authenticator: Buffer;
  attributes: Record<string, unknown>;
  raw_attributes: Array<[number, Buffer]>;
}

/**
 * The parts of the `radius` package beyond its published types, and its decoders typed as what they
 * return (the published types leave a decoded packet's attributes `any`).
 */
interface RadiusLibrary {
  decode(args: { packet: Buffer; secret: string }): DecodedPacket;
  decode_without_secret(args: { packet: Buffer }): DecodedPacket;
  add_dictionary(path: string): void;
  load_dictionaries(): void;
  unload_dictionaries(): void;
  attr_name_to_id(name: string, vendorId?: number | string): string | undefined;
  attr_id_to_name(id: number | string, vendorId?: number | string): string | undefined;
  vendor_name_to_id(name: string): string | undefined;
  InvalidSecretError: new (...args: unknown[]) => Error;
}

export const radiusLibrary = radius as unknown as Omit<typeof radius, 'decode' | 'decode_without_secret'> & RadiusLibrary;

export interface Dictionary {
  /** The file given, resolved. */
  path: string;
  /** A VENDOR's enterprise number, as the loaded dictionaries give it. */
  vendorId(name: string): number | undefined;
  /** Whether an attribute is defined: a standard one, or a vendor's when `vendorId` is given. */
  has(name: string, vendorId?: number): boolean;
}

const loaded = new Set<string>();

/**
 * Loads a dictionary file (with its $INCLUDEs) beside the RFC dictionaries the package ships.
 * The package keeps one dictionary per process; loading another file adds its definitions.
 */
export function loadDictionary(file: string): Dictionary {
  const path = resolve(file);
  if (!existsSync(path)) throw new Error(`RADIUS dictionary ${path} does not exist`);
  if (!loaded.has(path)) {
    radiusLibrary.add_dictionary(path);
    // Definitions are read lazily by the package; force a reload so the new file counts.
    radiusLibrary.unload_dictionaries();
    loaded.add(path);
  }
  radiusLibrary.load_dictionaries();
  return {
    path,
    vendorId: (name) => {
      const id = radiusLibrary.vendor_name_to_id(name);
      return id === undefined ? undefined : Number(id);
    },
    has: (name, vendorId) => radiusLibrary.attr_name_to_id(name, vendorId) !== undefined,
  };
}
