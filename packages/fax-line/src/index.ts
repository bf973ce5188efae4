/**
 * Fax lines: sending and receiving faxes on a fax modem, Class 1 (our own T.30 over T.31) or
 * Class 2.0 (T.32), and the page codec below them (bitmaps, T.4 Modified Huffman, the TIFF
 * container). A send or a receive ends with the line's facts and a line reason; what that means
 * for a delivery is for the caller.
 */
export * from './types';
export { reasonForFhs, describeFhs, FHS_CODES } from './fhs';
export { Class1Line, DEFAULT_CLASS1_TIMERS, type Class1LineOptions, type Class1Timers } from './class1';
export { trainingCheckPasses } from './class1-receive';
export { checkPage, type PageCheck } from './modem-receive';
export type { ModemLineOptions } from './modem-call';
export { Class20Line, DEFAULT_CLASS2_TIMERS, type Class2LineOptions, type Class2Timers } from './class2';
export { openSerialPort, type SerialLink, type SerialPortOptions } from './serial-port';
export { createModemLine, type ModemLineConfig } from './modem-line';
export * from './documents/bitmap';
export * from './documents/fax-document';
export { bitmapPng, pageThumbnail, type PageThumbnail } from './documents/png';
export { pagesToPdf, pageSizePoints } from './documents/pdf';
export { decodeMh, encodeMh, reverseBitOrder, type DecodeResult, type EncodeOptions } from './documents/t4-mh';
export { readTiff, writeG3Tiff, isTiff, Compression, TiffFormatError, type TiffPage, type G3TiffPage } from './documents/tiff';
