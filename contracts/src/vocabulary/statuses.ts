/**
 * The fax status vocabulary: per-recipient final and progress statuses, the aggregate state of a
 * fax, and the words shown to the fax owner for each of them in every supported locale.
 *
 * Plain data with no dependencies, so every service, template and event schema reads the same list.
 */

export const LOCALES = ['ru', 'en', 'it'] as const;
export type Locale = (typeof LOCALES)[number];

/** The 23 per-recipient final statuses of Fax.Plus (API 3.0.3 FaxStatus enum), in that API's order. */
export const FINAL_STATUSES = [
  'success',
  'partially_sent',
  'partially_received',
  'insufficient_credit',
  'failed',
  'failed_internal_process_error',
  'failed_user_busy',
  'failed_no_answer',
  'failed_unallocated_number',
  'failed_office_converter_issue',
  'failed_separate_file_pages_issue',
  'failed_render_header_issue',
  'failed_invalid_number_format',
  'failed_mimetype_not_supported',
  'failed_destination_not_supported',
  'failed_image_preparation',
  'failed_to_send',
  'failed_normal_temporary_failure',
  'failed_unknown_converter_issue',
  'failed_normal_clearing',
  'failed_convert_to_tiff_issue',
  'failed_fs_49',
  'failed_fs_2',
] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

/** Non-final per-recipient statuses. */
export const PROGRESS_STATUSES = ['queued', 'converting', 'scheduled', 'dialing', 'connected', 'sending', 'retry_scheduled'] as const;
export type ProgressStatus = (typeof PROGRESS_STATUSES)[number];

/** What a final status means for the notice: every page reached the recipient, some pages did, none did. */
export type DeliveryOutcome = 'delivered' | 'partial' | 'failed';

/** The 4 aggregate states of a fax (the "Sent" folder icons). */
export const AGGREGATE_STATES = ['in_progress', 'delivered', 'failed', 'partial'] as const;
export type AggregateState = (typeof AGGREGATE_STATES)[number];

export interface StatusText {
  /** A short title of the status, fit for a list column or an SMS. */
  label: string;
  /** One sentence saying what happened, in words a fax owner understands. */
  description: string;
  /** One sentence on what to do next. */
  advice: string;
}

export interface FinalStatusInfo {
  outcome: DeliveryOutcome;
  /**
   * Whether dialling the same number again, with the same document, may succeed. Busy, no answer
   * and temporary network failures may clear up; a wrong number or a document we cannot convert
   * will fail the same way again, so retrying them only costs the owner another attempt.
   */
  retryable: boolean;
  /**
   * Which side caused it: 'line' (the call or the T.30 session), 'document' (conversion, format),
   * 'number' (addressing, routing to the destination), 'account' (credit), 'system' (our internals).
   * For a delivered or partial outcome it names the side that carried or cut the call: 'line'.
   */
  cause: 'line' | 'document' | 'number' | 'account' | 'system';
  text: Record<Locale, StatusText>;
}

export const FINAL_STATUS_INFO: Record<FinalStatus, FinalStatusInfo> = {
  success: {
    outcome: 'delivered',
    retryable: false,
    cause: 'line',
    text: {
      ru: {
        label: 'Доставлено',
        description: 'Все страницы переданы, и факсимильный аппарат получателя подтвердил их приём.',
        advice: 'Никаких действий не требуется.',
      },
      en: {
        label: 'Delivered',
        description: "Every page was sent and the recipient's fax machine confirmed receiving them.",
        advice: 'No action is needed.',
      },
      it: {
        label: 'Consegnato',
        description: "Tutte le pagine sono state trasmesse e l'apparecchio fax del destinatario ne ha confermato la ricezione.",
        advice: 'Non è necessaria alcuna azione.',
      },
    },
  },
  partially_sent: {
    outcome: 'partial',
    retryable: true,
    cause: 'line',
    text: {
      ru: {
        label: 'Отправлено частично',
        description: 'Соединение прервалось до окончания передачи, поэтому получатель получил только часть страниц.',
        advice:
          'Отправьте недостающие страницы или весь факс ещё раз; если это повторяется, попросите получателя проверить бумагу и память факсимильного аппарата.',
      },
      en: {
        label: 'Partially sent',
        description: 'The call ended before every page was sent, so the recipient has only some of the pages.',
        advice: "Send the missing pages or the whole fax again; if this keeps happening, ask the recipient to check their fax machine's paper and memory.",
      },
      it: {
        label: 'Inviato in parte',
        description: 'La chiamata si è interrotta prima della fine della trasmissione: il destinatario ha ricevuto solo una parte delle pagine.',
        advice:
          "Invii di nuovo le pagine mancanti o l'intero fax; se il problema si ripete, chieda al destinatario di controllare la carta e la memoria del suo apparecchio fax.",
      },
    },
  },
  partially_received: {
    outcome: 'partial',
    retryable: true,
    cause: 'line',
    text: {
      ru: {
        label: 'Принято частично',
        description: 'Факсимильный аппарат получателя подтвердил приём только части страниц, остальные он отклонил или принял с ошибками.',
        advice: 'Отправьте факс ещё раз и уточните у получателя, какие страницы до него дошли.',
      },
      en: {
        label: 'Partially received',
        description: "The recipient's fax machine confirmed only some of the pages; the others were rejected or arrived damaged.",
        advice: 'Send the fax again and ask the recipient which pages arrived.',
      },
      it: {
        label: 'Ricevuto in parte',
        description: "L'apparecchio fax del destinatario ha confermato solo una parte delle pagine; le altre sono state rifiutate o ricevute con errori.",
        advice: 'Invii di nuovo il fax e chieda al destinatario quali pagine sono arrivate.',
      },
    },
  },
  insufficient_credit: {
    outcome: 'failed',
    retryable: false,
    cause: 'account',
    text: {
      ru: {
        label: 'Недостаточно средств',
        description: 'Факс не отправлен: на счёте недостаточно средств для его оплаты.',
        advice: 'Пополните баланс и отправьте факс ещё раз.',
      },
      en: {
        label: 'Insufficient credit',
        description: 'The fax was not sent because the account does not have enough credit to pay for it.',
        advice: 'Top up the account balance and send the fax again.',
      },
      it: {
        label: 'Credito insufficiente',
        description: "Il fax non è stato inviato perché il credito dell'account non è sufficiente.",
        advice: 'Ricarichi il credito e invii di nuovo il fax.',
      },
    },
  },
  failed: {
    outcome: 'failed',
    retryable: true,
    cause: 'line',
    text: {
      ru: {
        label: 'Ошибка отправки',
        description: 'Факс не удалось доставить, а более точную причину линия не сообщила.',
        advice: 'Попробуйте отправить факс позже; если ошибка повторится, обратитесь в службу поддержки.',
      },
      en: {
        label: 'Sending failed',
        description: 'The fax could not be delivered, and the line gave no more specific reason.',
        advice: 'Try sending the fax again later; if it fails again, contact support.',
      },
      it: {
        label: 'Invio non riuscito',
        description: 'Non è stato possibile consegnare il fax e la linea non ha indicato un motivo più preciso.',
        advice: "Provi a inviare di nuovo il fax più tardi; se l'errore si ripete, contatti l'assistenza.",
      },
    },
  },
  failed_internal_process_error: {
    outcome: 'failed',
    retryable: true,
    cause: 'system',
    text: {
      ru: {
        label: 'Внутренняя ошибка',
        description: 'Факс не был доставлен из-за внутренней ошибки сервиса.',
        advice: 'Отправьте факс ещё раз; если ошибка повторится, обратитесь в службу поддержки.',
      },
      en: {
        label: 'Internal error',
        description: 'An error inside the fax service stopped the fax before it could be delivered.',
        advice: 'Send the fax again; if the error repeats, contact support.',
      },
      it: {
        label: 'Errore interno',
        description: 'Un errore interno del servizio ha impedito la consegna del fax.',
        advice: "Invii di nuovo il fax; se l'errore si ripete, contatti l'assistenza.",
      },
    },
  },
  failed_user_busy: {
    outcome: 'failed',
    retryable: true,
    cause: 'line',
    text: {
      ru: {
        label: 'Линия занята',
        description: 'Номер получателя был занят при каждой попытке дозвониться.',
        advice: 'Повторите отправку позже или уточните номер у получателя.',
      },
      en: {
        label: 'Line busy',
        description: "The recipient's number was busy on every attempt.",
        advice: 'Try again later or check the number with the recipient.',
      },
      it: {
        label: 'Linea occupata',
        description: 'Il numero del destinatario è risultato occupato a ogni tentativo.',
        advice: 'Riprovi più tardi o verifichi il numero con il destinatario.',
      },
    },
  },
  failed_no_answer: {
    outcome: 'failed',
    retryable: true,
    cause: 'line',
    text: {
      ru: {
        label: 'Нет ответа',
        description: 'Вызов прошёл, но факсимильный аппарат получателя так и не ответил.',
        advice: 'Попросите получателя проверить, что факсимильный аппарат включён и отвечает на звонки, и повторите отправку.',
      },
      en: {
        label: 'No answer',
        description: 'The number rang, but no fax machine answered the call.',
        advice: 'Ask the recipient to make sure their fax machine is switched on and set to answer calls, then try again.',
      },
      it: {
        label: 'Nessuna risposta',
        description: 'Il numero ha squillato, ma nessun apparecchio fax ha risposto alla chiamata.',
        advice: 'Chieda al destinatario di verificare che il fax sia acceso e impostato per rispondere alle chiamate, poi riprovi.',
      },
    },
  },
  failed_unallocated_number: {
    outcome: 'failed',
    retryable: false,
    cause: 'number',
    text: {
      ru: {
        label: 'Номер не существует',
        description: 'Оператор связи сообщил, что такого номера не существует или он не обслуживается.',
        advice: 'Проверьте номер, включая код страны и города, и отправьте факс на правильный номер.',
      },
      en: {
        label: 'Number does not exist',
        description: 'The phone network reports that this number is not assigned to anyone.',
        advice: 'Check the number, including the country and area code, and send the fax to the corrected number.',
      },
      it: {
        label: 'Numero inesistente',
        description: 'La rete telefonica segnala che il numero è inesistente o non attivo.',
        advice: 'Controlli il numero, compresi il prefisso internazionale e quello locale, e invii il fax al numero corretto.',
      },
    },
  },
  failed_office_converter_issue: {
    outcome: 'failed',
    retryable: false,
    cause: 'document',
    text: {
      ru: {
        label: 'Не удалось преобразовать офисный документ',
        description: 'Офисный документ (например, Word или Excel) не удалось преобразовать в страницы факса.',
        advice: 'Сохраните документ в формате PDF и отправьте его ещё раз.',
      },
      en: {
        label: 'Office document not converted',
        description: 'An office document (such as Word or Excel) could not be converted into fax pages.',
        advice: 'Save the document as PDF and send it again.',
      },
      it: {
        label: 'Documento Office non convertito',
        description: 'Non è stato possibile convertire il documento Office (ad esempio Word o Excel) in pagine fax.',
        advice: 'Salvi il documento in formato PDF e lo invii di nuovo.',
      },
    },
  },
  failed_separate_file_pages_issue: {
    outcome: 'failed',
    retryable: false,
    cause: 'document',
    text: {
      ru: {
        label: 'Не удалось подготовить страницы',
        description: 'Документ не удалось разделить на отдельные страницы факса.',
        advice: 'Убедитесь, что файл открывается без ошибок, пересохраните его в PDF и отправьте ещё раз.',
      },
      en: {
        label: 'Pages could not be prepared',
        description: 'The document could not be split into separate fax pages.',
        advice: 'Check that the file opens correctly, save it again as PDF and send it again.',
      },
      it: {
        label: 'Preparazione delle pagine non riuscita',
        description: 'Non è stato possibile suddividere il documento in singole pagine fax.',
        advice: 'Verifichi che il file si apra correttamente, lo salvi di nuovo in PDF e lo invii ancora.',
      },
    },
  },
  failed_render_header_issue: {
    outcome: 'failed',
    retryable: false,
    cause: 'document',
    text: {
      ru: {
        label: 'Ошибка заголовка факса',
        description: 'Не удалось добавить на страницы служебный заголовок факса с отправителем, датой и номером страницы.',
        advice:
          'Проверьте, нет ли необычных символов в имени отправителя и настройках заголовка, и отправьте факс ещё раз; если ошибка повторится, обратитесь в службу поддержки.',
      },
      en: {
        label: 'Fax header error',
        description: 'The header line with the sender, date and page number could not be added to the pages.',
        advice: 'Check the sender name and header settings for unusual characters, then send the fax again; if it still fails, contact support.',
      },
      it: {
        label: "Errore nell'intestazione del fax",
        description: "Non è stato possibile aggiungere alle pagine l'intestazione del fax con mittente, data e numero di pagina.",
        advice:
          "Controlli che il nome del mittente e le impostazioni dell'intestazione non contengano caratteri insoliti, poi invii di nuovo il fax; se l'errore si ripete, contatti l'assistenza.",
      },
    },
  },
  failed_invalid_number_format: {
    outcome: 'failed',
    retryable: false,
    cause: 'number',
    text: {
      ru: {
        label: 'Неверный формат номера',
        description: 'Номер записан в таком виде, что его невозможно набрать.',
        advice: 'Укажите номер в международном формате — со знаком + и кодом страны — и отправьте факс ещё раз.',
      },
      en: {
        label: 'Invalid number format',
        description: 'The number is not written in a form that can be dialled.',
        advice: 'Enter the number in international format, starting with + and the country code, and send the fax again.',
      },
      it: {
        label: 'Formato del numero non valido',
        description: 'Il numero non è scritto in una forma che si possa comporre.',
        advice: 'Inserisca il numero in formato internazionale, con il segno + e il prefisso del paese, e invii di nuovo il fax.',
      },
    },
  },
  failed_mimetype_not_supported: {
    outcome: 'failed',
    retryable: false,
    cause: 'document',
    text: {
      ru: {
        label: 'Тип файла не поддерживается',
        description: 'Один из вложенных файлов имеет формат, который нельзя отправить по факсу.',
        advice: 'Преобразуйте файл в PDF или другой поддерживаемый формат и отправьте факс ещё раз.',
      },
      en: {
        label: 'File type not supported',
        description: 'One of the attached files is of a type that cannot be sent by fax.',
        advice: 'Convert the file to PDF or another supported format and send the fax again.',
      },
      it: {
        label: 'Tipo di file non supportato',
        description: 'Uno dei file allegati è in un formato che non può essere inviato via fax.',
        advice: 'Converta il file in PDF o in un altro formato supportato e invii di nuovo il fax.',
      },
    },
  },
  failed_destination_not_supported: {
    outcome: 'failed',
    retryable: false,
    cause: 'number',
    text: {
      ru: {
        label: 'Направление не поддерживается',
        description: 'Отправка факсов в эту страну или на номера такого типа (например, платные или специальные) недоступна.',
        advice: 'Убедитесь, что это обычный номер факса; если это так, обратитесь в службу поддержки и уточните, доступно ли это направление.',
      },
      en: {
        label: 'Destination not supported',
        description: 'Faxes cannot be sent to this country or to this type of number, such as premium-rate or special numbers.',
        advice: 'Check that this is an ordinary fax number; if it is, contact support to ask about this destination.',
      },
      it: {
        label: 'Destinazione non supportata',
        description: 'Non è possibile inviare fax verso questo paese o verso questo tipo di numero, ad esempio numeri speciali o a tariffazione maggiorata.',
        advice: "Verifichi che si tratti di un normale numero di fax; in tal caso, contatti l'assistenza per informazioni su questa destinazione.",
      },
    },
  },
  failed_image_preparation: {
    outcome: 'failed',
    retryable: false,
    cause: 'document',
    text: {
      ru: {
        label: 'Не удалось подготовить изображение',
        description: 'Изображение из документа не удалось подготовить к передаче по факсу.',
        advice: 'Сохраните изображения с меньшим разрешением или в формате PDF и отправьте факс ещё раз.',
      },
      en: {
        label: 'Image could not be prepared',
        description: 'An image in the document could not be prepared for sending by fax.',
        advice: 'Save the images at a lower resolution or as PDF and send the fax again.',
      },
      it: {
        label: "Preparazione dell'immagine non riuscita",
        description: "Non è stato possibile preparare un'immagine del documento per la trasmissione via fax.",
        advice: 'Salvi le immagini con una risoluzione più bassa o in formato PDF e invii di nuovo il fax.',
      },
    },
  },
  failed_to_send: {
    outcome: 'failed',
    retryable: true,
    cause: 'line',
    text: {
      ru: {
        label: 'Сбой передачи',
        description: 'Вызов состоялся, но передать факс на аппарат получателя не удалось.',
        advice: 'Повторите отправку позже; если сбой повторяется, попросите получателя проверить факсимильный аппарат и линию.',
      },
      en: {
        label: 'Transmission failed',
        description: "The call went through, but the fax could not be transmitted to the recipient's machine.",
        advice: 'Send the fax again later; if it keeps failing, ask the recipient to check their fax machine and line.',
      },
      it: {
        label: 'Trasmissione non riuscita',
        description: "La chiamata è andata a buon fine, ma non è stato possibile trasmettere il fax all'apparecchio del destinatario.",
        advice: "Invii di nuovo il fax più tardi; se l'errore persiste, chieda al destinatario di controllare l'apparecchio fax e la linea.",
      },
    },
  },
  failed_normal_temporary_failure: {
    outcome: 'failed',
    retryable: true,
    cause: 'line',
    text: {
      ru: {
        label: 'Временный сбой сети',
        description: 'Из-за временного сбоя в телефонной сети соединение установить не удалось.',
        advice: 'Повторите отправку через несколько минут.',
      },
      en: {
        label: 'Temporary network failure',
        description: 'A temporary failure in the phone network stopped the call from going through.',
        advice: 'Send the fax again in a few minutes.',
      },
      it: {
        label: 'Guasto temporaneo della rete',
        description: 'Un guasto temporaneo della rete telefonica ha impedito di completare la chiamata.',
        advice: 'Invii di nuovo il fax tra qualche minuto.',
      },
    },
  },
  failed_unknown_converter_issue: {
    outcome: 'failed',
    retryable: false,
    cause: 'document',
    text: {
      ru: {
        label: 'Ошибка преобразования документа',
        description: 'Документ не удалось преобразовать в страницы факса по неизвестной причине.',
        advice: 'Сохраните документ в формате PDF и отправьте его ещё раз; если ошибка повторится, обратитесь в службу поддержки.',
      },
      en: {
        label: 'Document conversion error',
        description: 'The document could not be converted into fax pages for an unknown reason.',
        advice: 'Save the document as PDF and send it again; if it still fails, contact support.',
      },
      it: {
        label: 'Errore di conversione del documento',
        description: 'Non è stato possibile convertire il documento in pagine fax per un motivo sconosciuto.',
        advice: "Salvi il documento in formato PDF e lo invii di nuovo; se l'errore si ripete, contatti l'assistenza.",
      },
    },
  },
  failed_normal_clearing: {
    outcome: 'failed',
    retryable: true,
    cause: 'line',
    text: {
      ru: {
        label: 'Вызов прерван',
        description:
          'На вызов ответили, но соединение завершилось до окончания передачи — обычно так бывает, когда отвечает человек или голосовая линия либо на той стороне кладут трубку.',
        advice: 'Уточните у получателя, что это номер факса, и отправьте факс ещё раз.',
      },
      en: {
        label: 'Call ended early',
        description:
          'The call was answered but ended before the fax was complete, usually because a person or a voice line answered or the other side hung up.',
        advice: 'Check with the recipient that this number is a fax line, then send the fax again.',
      },
      it: {
        label: 'Chiamata interrotta',
        description:
          "La chiamata ha ricevuto risposta ma si è chiusa prima della fine del fax, di solito perché ha risposto una persona o una linea vocale, oppure l'altra parte ha riagganciato.",
        advice: 'Verifichi con il destinatario che il numero sia una linea fax, poi invii di nuovo il fax.',
      },
    },
  },
  failed_convert_to_tiff_issue: {
    outcome: 'failed',
    retryable: false,
    cause: 'document',
    text: {
      ru: {
        label: 'Ошибка преобразования в формат факса',
        description: 'Документ не удалось преобразовать в графический формат, в котором передаются факсы.',
        advice: 'Сохраните документ в формате PDF и отправьте его ещё раз.',
      },
      en: {
        label: 'Fax image conversion failed',
        description: 'The document could not be converted into the image format used to transmit faxes.',
        advice: 'Save the document as PDF and send it again.',
      },
      it: {
        label: 'Conversione in formato fax non riuscita',
        description: 'Non è stato possibile convertire il documento nel formato immagine usato per la trasmissione dei fax.',
        advice: 'Salvi il documento in formato PDF e lo invii di nuovo.',
      },
    },
  },
  // Q.850 cause 49, "quality of service not available": the carrier found no way to carry the call.
  // It depends on the carrier's routes at that moment, so a later attempt may get through.
  failed_fs_49: {
    outcome: 'failed',
    retryable: true,
    cause: 'line',
    text: {
      ru: {
        label: 'Оператор не смог соединить',
        description: 'Оператор связи не смог направить вызов на этот номер с нужным качеством связи (код сети 49).',
        advice:
          'Повторите отправку позже; если ошибка не исчезнет, обратитесь в службу поддержки — возможно, это направление недоступно через нашего оператора связи.',
      },
      en: {
        label: 'Carrier could not route the call',
        description: 'The carrier could not route the call to this number with the required quality of service (network cause 49).',
        advice: 'Try again later; if it keeps failing, contact support, as this destination may not be reachable through our carrier.',
      },
      it: {
        label: "L'operatore non ha instradato la chiamata",
        description: "L'operatore non è riuscito a instradare la chiamata verso questo numero con la qualità di servizio richiesta (causa di rete 49).",
        advice:
          "Riprovi più tardi; se l'errore persiste, contatti l'assistenza, perché questa destinazione potrebbe non essere raggiungibile tramite il nostro operatore.",
      },
    },
  },
  // Q.850 cause 2, "no route to specified transit network": the destination's network is not
  // reachable from ours at all, which does not change from one attempt to the next.
  failed_fs_2: {
    outcome: 'failed',
    retryable: false,
    cause: 'number',
    text: {
      ru: {
        label: 'Нет маршрута до получателя',
        description: 'В телефонной сети нет маршрута к сети, которой принадлежит этот номер (код сети 2).',
        advice: 'Проверьте номер и код страны; если всё верно, обратитесь в службу поддержки — это направление недоступно через нашего оператора связи.',
      },
      en: {
        label: 'No route to destination',
        description: 'The phone network has no route to the network this number belongs to (network cause 2).',
        advice: 'Check the number and its country code; if they are correct, contact support, as this destination cannot be reached through our carrier.',
      },
      it: {
        label: 'Nessun instradamento verso la destinazione',
        description: 'La rete telefonica non ha un instradamento verso la rete a cui appartiene questo numero (causa di rete 2).',
        advice:
          "Controlli il numero e il prefisso del paese; se sono corretti, contatti l'assistenza, perché questa destinazione non è raggiungibile tramite il nostro operatore.",
      },
    },
  },
};

/** Short labels per outcome for notice titles. */
export const OUTCOME_LABELS: Record<Locale, Record<DeliveryOutcome, string>> = {
  ru: { delivered: 'Доставлено', partial: 'Доставлено частично', failed: 'Не доставлено' },
  en: { delivered: 'Delivered', partial: 'Partially delivered', failed: 'Not delivered' },
  it: { delivered: 'Consegnato', partial: 'Consegnato in parte', failed: 'Non consegnato' },
};

/** Labels for the aggregate state of a fax (the Sent folder and the fax page). */
export const AGGREGATE_LABELS: Record<Locale, Record<AggregateState, string>> = {
  ru: { in_progress: 'Отправляется', delivered: 'Доставлен', failed: 'Не доставлен', partial: 'Доставлен частично' },
  en: { in_progress: 'In progress', delivered: 'Delivered', failed: 'Not delivered', partial: 'Partially delivered' },
  it: { in_progress: 'In corso', delivered: 'Consegnato', failed: 'Non consegnato', partial: 'Consegnato in parte' },
};

/** Labels for a recipient that is not final yet (the fax page). */
export const PROGRESS_LABELS: Record<Locale, Record<ProgressStatus, string>> = {
  ru: {
    queued: 'В очереди',
    converting: 'Подготовка документа',
    scheduled: 'Отправка запланирована',
    dialing: 'Набор номера',
    connected: 'Соединение установлено',
    sending: 'Передача',
    retry_scheduled: 'Запланирована повторная попытка',
  },
  en: {
    queued: 'Queued',
    converting: 'Preparing the document',
    scheduled: 'Scheduled',
    dialing: 'Dialling',
    connected: 'Connected',
    sending: 'Sending',
    retry_scheduled: 'Retry scheduled',
  },
  it: {
    queued: 'In coda',
    converting: 'Preparazione del documento',
    scheduled: 'Invio programmato',
    dialing: 'Composizione del numero',
    connected: 'Connesso',
    sending: 'Invio in corso',
    retry_scheduled: 'Nuovo tentativo programmato',
  },
};

/** The placeholder shown for a fax without a subject. */
export const NO_SUBJECT: Record<Locale, string> = {
  ru: 'без темы',
  en: 'no subject',
  it: 'senza oggetto',
};

const FINAL_STATUS_SET: ReadonlySet<string> = new Set(FINAL_STATUSES);

/** Narrows a status read from a peer or the database; a Set, so names like "toString" are not mistaken for statuses. */
export function isFinalStatus(s: string): s is FinalStatus {
  return FINAL_STATUS_SET.has(s);
}

/** Everything a notice says about one final status, in one locale. */
export function describeStatus(status: FinalStatus, locale: Locale): StatusText & { outcome: DeliveryOutcome; retryable: boolean } {
  const info = FINAL_STATUS_INFO[status];
  return { ...info.text[locale], outcome: info.outcome, retryable: info.retryable };
}

/**
 * Aggregate of a fax from its recipients: in_progress while any recipient is non-final (or there
 * are none yet); delivered when every recipient got every page; failed when no recipient got any
 * page; partial otherwise.
 *
 * Only `success` counts as every page: a failed call can report all pages sent and still lack the
 * receiver's final confirmation. A recipient got some pages when it reports pages sent, or when its
 * status itself says so (partially_sent / partially_received), whatever the page counter holds.
 */
export function aggregateState(recipients: ReadonlyArray<{ status: FinalStatus | ProgressStatus; pagesSent: number; pagesTotal: number }>): AggregateState {
  if (recipients.length === 0) return 'in_progress';
  let allDelivered = true;
  let anyPageArrived = false;
  for (const recipient of recipients) {
    if (!isFinalStatus(recipient.status)) return 'in_progress';
    const outcome = FINAL_STATUS_INFO[recipient.status].outcome;
    if (outcome !== 'delivered') allDelivered = false;
    if (outcome !== 'failed' || recipient.pagesSent > 0) anyPageArrived = true;
  }
  if (allDelivered) return 'delivered';
  return anyPageArrived ? 'partial' : 'failed';
}
