"""Gradio's own interface texts that its Swedish table lacks, and one neither language has.

Gradio 6.31 announces a finished event in its live region as `common.complete`, a key none of its
tables defines, so screen readers read out the key itself; and its Swedish table misses a few keys
its English one has (queue position, progress, table filters...). Our gr.I18n tables (ui/i18n.py)
add them; Gradio merges them into its own. Nothing here imports gradio.
"""

from __future__ import annotations

STRINGS = {
    "en": {
        "common.complete": "Done",
        "common.progress": "Progress",
        "common.run": "Run",
        "common.runs": "Runs",
        "common.runs_description": "View runs saved in this browser",
        "common.back_to_app": "App",
        "common.back_to_app_description": "Return to the app",
        "common.download_all": "Download All",
        "common.record": "Record",
        "common.stop_recording": "Stop Recording",
        "status.queue_position": "In queue: {position} of {size}",
        "audio.recording_error": "Could not start recording from the microphone.",
        "dataframe.filter": "Filter",
        "dataframe.clear_filter": "Clear filters",
        "dataframe.import_empty_file": "The dropped file is empty.",
        "dataframe.import_no_column_names": "The dropped file has no column names.",
        "dataframe.import_ragged_row": "Line {line} of the file has {fields} fields, the header has {columns}.",
        "dataframe.import_static_columns": "Cannot import into a table with read-only columns.",
        "dataframe.import_fixed_columns": "This table takes exactly {expected} columns, the file has {actual}.",
        "dataframe.import_fixed_rows": "This table takes exactly {expected} rows, the file has {actual}.",
    },
    "sv": {
        "common.complete": "Klart",
        "common.progress": "Förlopp",
        "common.run": "Kör",
        "common.runs": "Körningar",
        "common.runs_description": "Visa körningar som sparats i den här webbläsaren",
        "common.back_to_app": "Appen",
        "common.back_to_app_description": "Tillbaka till appen",
        "common.download_all": "Ladda ner alla",
        "common.record": "Spela in",
        "common.stop_recording": "Stoppa inspelningen",
        "status.queue_position": "I kön: {position} av {size}",
        "audio.recording_error": "Det gick inte att börja spela in från mikrofonen.",
        "dataframe.filter": "Filtrera",
        "dataframe.clear_filter": "Rensa filter",
        "dataframe.import_empty_file": "Den släppta filen är tom.",
        "dataframe.import_no_column_names": "Den släppta filen har inga kolumnnamn.",
        "dataframe.import_ragged_row": "Rad {line} i filen har {fields} fält, rubrikraden har {columns}.",
        "dataframe.import_static_columns": "Det går inte att importera till en tabell med skrivskyddade kolumner.",
        "dataframe.import_fixed_columns": "Tabellen tar exakt {expected} kolumner, filen har {actual}.",
        "dataframe.import_fixed_rows": "Tabellen tar exakt {expected} rader, filen har {actual}.",
    },
}
