"""Writing desired state back to git: in-place edits of desired/ files and commits (release, rollback)."""
