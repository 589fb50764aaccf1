"""Ideas: projects (consultations), ideas, comments, topics, statuses with official feedback, flags."""
