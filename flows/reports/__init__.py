"""What people read: status tables, the Board report (Markdown, HTML, PDF) with its charts,
and calendar feeds, in kk / ru / en."""
