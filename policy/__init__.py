"""The privacy policy's promises as behaviour: documents, consent, cookies, data rights, analytics."""
