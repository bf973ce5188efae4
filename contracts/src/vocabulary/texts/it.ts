/** Italian words shown to the fax owner; each final status says what its English text says (./en.ts). */
import type { LocaleTexts } from '../statuses';

export const IT: LocaleTexts = {
  statuses: {
    success: {
      label: 'Consegnato',
      description:
        "Il fax è stato inviato con successo: tutte le pagine sono state trasmesse e l'apparecchio fax del destinatario ne ha confermato la ricezione.",
      advice: 'Non è necessaria alcuna azione.',
    },
    partially_sent: {
      label: 'Inviato in parte',
      description:
        'Le prime pagine sono state trasmesse, ma la chiamata è caduta per problemi di connessione: il destinatario ha ricevuto solo una parte delle pagine.',
      advice:
        "Invii di nuovo le pagine mancanti o l'intero fax; se il problema si ripete, chieda al destinatario di controllare la carta e la memoria del suo apparecchio fax.",
    },
    partially_received: {
      label: 'Ricevuto in parte',
      description:
        "L'apparecchio fax del destinatario ha ricevuto le prime pagine, ma la chiamata è caduta per problemi di connessione e le altre pagine non sono arrivate.",
      advice: 'Invii di nuovo il fax e chieda al destinatario quali pagine sono arrivate.',
    },
    insufficient_credit: {
      label: 'Credito insufficiente',
      description: "Il fax non è stato inviato perché il credito dell'account non basta per inviarne le pagine.",
      advice: 'Ricarichi il credito o attenda il rinnovo delle pagine del suo piano, poi invii di nuovo il fax.',
    },
    failed: {
      label: 'Invio non riuscito',
      description: 'Non è stato possibile consegnare il fax a causa di un errore generico, senza un motivo più preciso.',
      advice: "Riprovi a inviare il fax; se il problema persiste, contatti l'assistenza.",
    },
    failed_internal_process_error: {
      label: 'Errore interno',
      description: 'Un errore generico interno del servizio ha impedito la consegna del fax.',
      advice: "Riprovi a inviare il fax; se il problema persiste, contatti l'assistenza.",
    },
    failed_user_busy: {
      label: 'Linea occupata',
      description: 'Il numero del destinatario è risultato occupato a ogni tentativo.',
      advice: 'Attenda e riprovi più tardi, oppure verifichi il numero con il destinatario.',
    },
    failed_no_answer: {
      label: 'Nessuna risposta',
      description: "Il numero ha squillato, ma non c'è stata risposta a destinazione: nessun apparecchio fax ha risposto alla chiamata.",
      advice: 'Riprovi quando sa che il destinatario è disponibile e gli chieda di verificare che il fax sia acceso e impostato per rispondere alle chiamate.',
    },
    failed_unallocated_number: {
      label: 'Numero inesistente',
      description: 'Il numero non è valido: la rete telefonica segnala che è inesistente o non attivo.',
      advice: 'Controlli il numero, compresi il prefisso internazionale e quello locale, e invii il fax al numero corretto.',
    },
    failed_office_converter_issue: {
      label: 'Documento Office non convertito',
      description: 'Non è stato possibile convertire il documento Microsoft Office (ad esempio Word o Excel) in pagine fax.',
      advice: 'Ricrei il file, ad esempio salvandolo di nuovo da Office o in PDF, e lo invii di nuovo.',
    },
    failed_separate_file_pages_issue: {
      label: 'Preparazione delle pagine non riuscita',
      description: 'Errore di conversione del file: non è stato possibile suddividere il documento in singole pagine fax.',
      advice: 'Verifichi che tutte le pagine dei file di origine siano valide e che il file si apra correttamente, lo salvi di nuovo in PDF e lo invii ancora.',
    },
    failed_render_header_issue: {
      label: "Errore nell'intestazione del fax",
      description: "Errore di conversione del file: non è stato possibile aggiungere alle pagine l'intestazione del fax con mittente, data e numero di pagina.",
      advice:
        "Verifichi che tutte le pagine dei file di origine siano valide e che il nome del mittente e le impostazioni dell'intestazione non contengano caratteri insoliti, poi invii di nuovo il fax; se l'errore si ripete, contatti l'assistenza.",
    },
    failed_invalid_number_format: {
      label: 'Formato del numero non valido',
      description: 'Il formato del numero non è valido: il numero non è scritto in una forma che si possa comporre.',
      advice:
        'Controlli il numero, compresi il prefisso internazionale e quello locale: lo inserisca in formato internazionale, con il segno + e il prefisso del paese, e invii di nuovo il fax.',
    },
    failed_mimetype_not_supported: {
      label: 'Tipo di file non supportato',
      description: 'Uno dei file allegati è di un tipo non supportato, che non può essere inviato via fax.',
      advice: 'Converta il file in PDF o in un altro formato supportato e invii di nuovo il fax.',
    },
    failed_destination_not_supported: {
      label: 'Destinazione non supportata',
      description: 'Il numero è un numero di servizio speciale (ad esempio a tariffazione maggiorata), oppure la destinazione non è supportata dal suo piano.',
      advice: "Verifichi che si tratti di un normale numero di fax; in tal caso, contatti l'assistenza per sapere se il suo piano include questa destinazione.",
    },
    failed_image_preparation: {
      label: "Preparazione dell'immagine non riuscita",
      description: "Errore di conversione del file: non è stato possibile preparare un'immagine del documento per la trasmissione via fax.",
      advice:
        'Verifichi che tutte le pagine dei file di origine siano valide; salvi le immagini con una risoluzione più bassa o in formato PDF e invii di nuovo il fax.',
    },
    failed_to_send: {
      label: 'Sistema occupato',
      description: 'Il fax non è stato inviato perché il sistema di invio era occupato.',
      advice: "Riprovi più tardi; se l'errore persiste, contatti l'assistenza.",
    },
    failed_normal_temporary_failure: {
      label: 'Guasto temporaneo della rete',
      description: 'Un problema temporaneo della rete ha impedito di completare la chiamata.',
      advice: 'Riprovi subito; di solito questi problemi si risolvono in pochi minuti.',
    },
    failed_unknown_converter_issue: {
      label: 'Errore di conversione del documento',
      description: 'Conversione del file non riuscita: non è stato possibile convertire il documento in pagine fax, e potrebbe essere protetto da password.',
      advice:
        "Verifichi se il file è protetto da password; in tal caso rimuova la password o lo salvi in PDF senza password e lo invii di nuovo; se l'errore si ripete, contatti l'assistenza.",
    },
    failed_normal_clearing: {
      label: 'Destinazione occupata',
      description: 'La destinazione era occupata e la chiamata è stata chiusa prima che il fax potesse essere inviato.',
      advice: 'Attenda e riprovi più tardi; se il problema si ripete, verifichi con il destinatario che il numero sia una linea fax.',
    },
    failed_convert_to_tiff_issue: {
      label: 'Conversione in formato fax non riuscita',
      description:
        'Errore di conversione del file: non è stato possibile convertire il documento nel formato immagine (TIFF) usato per la trasmissione dei fax.',
      advice: 'Verifichi che tutte le pagine dei file di origine siano valide, salvi il documento in formato PDF e lo invii di nuovo.',
    },
    failed_fs_49: {
      label: 'Fax remoto disconnesso',
      description: "L'apparecchio fax remoto si è disconnesso inaspettatamente durante la chiamata; alcune pagine potrebbero essere state trasmesse.",
      advice:
        "Controlli nella pagina del fax quante pagine sono arrivate, poi invii di nuovo le pagine mancanti o l'intero fax; se il problema si ripete, chieda al destinatario di controllare il suo apparecchio fax.",
    },
    failed_fs_2: {
      label: 'Nessun fax ha risposto',
      description:
        'La chiamata è stata effettuata, ma nessun apparecchio fax ha avviato lo scambio entro il tempo previsto, quindi nessuna pagina è stata inviata.',
      advice: "Verifichi con il destinatario che il numero sia una linea fax e che l'apparecchio sia acceso, poi invii di nuovo il fax.",
    },
  },
  outcomes: { delivered: 'Consegnato', partial: 'Consegnato in parte', failed: 'Non consegnato' },
  aggregate: { in_progress: 'In corso', delivered: 'Consegnato', failed: 'Non consegnato', partial: 'Consegnato in parte' },
  progress: {
    queued: 'In coda',
    converting: 'Preparazione del documento',
    scheduled: 'Invio programmato',
    dialing: 'Composizione del numero',
    connected: 'Connesso',
    sending: 'Invio in corso',
    retry_scheduled: 'Nuovo tentativo programmato',
  },
  noSubject: 'senza oggetto',
};
