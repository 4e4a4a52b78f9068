"""Alert delivery: email over SMTP and signed webhooks, from the outbox."""
