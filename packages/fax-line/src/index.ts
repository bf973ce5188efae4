export * from './types';
export { statusFor, reasonForFhs, describeFhs, FHS_CODES } from './outcome';
export { Class1Line, DEFAULT_CLASS1_TIMERS, type Class1LineOptions, type Class1Timers } from './class1';
export { Class20Line, DEFAULT_CLASS2_TIMERS, type Class2LineOptions, type Class2Timers } from './class2';
export { openSerialPort, type SerialLink, type SerialPortOptions } from './serial-port';
export { createModemLine, type ModemLineConfig } from './modem-line';
