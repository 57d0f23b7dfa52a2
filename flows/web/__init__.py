"""The web portal (esgtrack web): officers by signed link, the ESG office and auditors by account."""
