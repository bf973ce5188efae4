export * from './bitmap';
export * from './fax-document';
export * from './prepare';
export { decodeMh, encodeMh, reverseBitOrder, type DecodeResult, type EncodeOptions } from './t4-mh';
export { readTiff, writeG3Tiff, isTiff, TiffFormatError, type TiffPage, type G3TiffPage } from './tiff';
