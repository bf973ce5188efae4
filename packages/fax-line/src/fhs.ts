/**
 * Class 2.0 hang-ups: a T.32 modem ends every call with +FHS and a code. Each code that stands for
 * one of our line reasons becomes it, so a BUSY or a T1 timeout reads the same whether a Class 1
 * session or a Class 2.0 modem saw it; the rest keep their code in the detail.
 */
import { LineReason, type LineReasonCode } from './types';

/** Class 2.0 (T.32) hang-up status codes, hexadecimal as +FHS reports them. */
export const FHS_CODES: Readonly<Record<string, string>> = {
  '00': 'Normal and proper end of connection',
  '01': 'Ring detected without successful handshake',
  '02': 'Call aborted, from +FKS or <CAN>',
  '03': 'No loop current',
  '04': 'Ringback detected, no answer (timeout)',
  '05': 'Ringback detected, answer without CED',
  '10': 'Unspecified phase A error',
  '11': 'No answer (T.30 T1 timeout)',
  '20': 'Unspecified transmit phase B error',
  '21': 'Remote cannot be polled',
  '22': 'COMREC error in transmit phase B',
  '23': 'COMREC invalid command received',
  '24': 'RSPREC error',
  '25': 'DCS sent three times without response',
  '26': 'DIS/DTC received 3 times; DCS not recognized',
  '27': 'Failure to train at 2400 bit/s or +FMS value',
  '28': 'RSPREC invalid response received',
  '40': 'Unspecified transmit phase C error',
  '41': 'Unspecified image format error',
  '42': 'Image conversion error',
  '43': 'DTE to DCE data underflow',
  '44': 'Unrecognized transparent data command',
  '45': 'Image error, line length wrong',
  '46': 'Image error, page length wrong',
  '47': 'Image error, wrong compression code',
  '50': 'Unspecified transmit phase D error',
  '51': 'RSPREC error',
  '52': 'No response to MPS repeated 3 times',
  '53': 'Invalid response to MPS',
  '54': 'No response to EOP repeated 3 times',
  '55': 'Invalid response to EOP',
  '56': 'No response to EOM repeated 3 times',
  '57': 'Invalid response to EOM',
  '58': 'Unable to continue after PIN or PIP',
  '70': 'Unspecified receive phase B error',
  '71': 'RSPREC error',
  '72': 'COMREC error',
  '73': 'T.30 T2 timeout, expected page not received',
  '74': 'T.30 T1 timeout after EOM received',
  '90': 'Unspecified receive phase C error',
  '91': 'Missing EOL after 5 seconds',
  '92': 'Bad CRC or frame (ECM mode)',
  '93': 'DCE to DTE buffer overflow',
  A0: 'Unspecified receive phase D error',
  A1: 'RSPREC invalid response received',
  A2: 'COMREC invalid response received',
  A3: 'Unable to continue after PIN or PIP',
};

/** The line reason a Class 2.0 hang-up code stands for. */
export function reasonForFhs(code: string): LineReasonCode {
  const value = parseInt(code, 16);
  if (Number.isNaN(value)) return LineReason.MODEM_ERROR;
  switch (code.toUpperCase()) {
    case '00':
      return LineReason.OK;
    case '01':
    case '04':
      return LineReason.NO_ANSWER;
    case '02':
      return LineReason.ABORTED;
    case '03':
      return LineReason.NO_DIALTONE;
    case '05':
      return LineReason.NO_CARRIER_ON_DIAL;
    case '11':
      return LineReason.T30_T1_TIMEOUT;
    case '25':
      return LineReason.T30_DCS_NO_RESPONSE;
    case '26':
      return LineReason.T30_DIS_REPEATED;
    case '27':
      return LineReason.T30_TRAINING_FAILED;
    case '52':
    case '54':
    case '56':
      return LineReason.T30_POST_PAGE_NO_RESPONSE;
    case '53':
    case '55':
    case '57':
      return LineReason.T30_INVALID_RESPONSE;
    case '58':
    case 'A3':
      return LineReason.T30_PROCEDURE_INTERRUPT;
    case '73':
      return LineReason.T30_T2_TIMEOUT;
    case '74':
      return LineReason.T30_T1_TIMEOUT;
    case '72':
    case 'A2':
      return LineReason.T30_INVALID_COMMAND;
    default:
      return LineReason.FHS;
  }
}

export function describeFhs(code: string): string {
  const key = code.toUpperCase().padStart(2, '0');
  return `+FHS:${key} ${FHS_CODES[key] ?? 'unknown hang-up code'}`;
}
