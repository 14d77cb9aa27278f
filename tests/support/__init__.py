"""What the tests share, in one place: the sandbox and its clients (`sandbox`), the desired-state writers and
the converged-Azure seeds (`estate`), and the production entry points driven in process (`cli`).

Imported as the top-level package `support` (tests/ is on sys.path; it has no __init__.py, because a package
named `azure` under it would shadow the Azure SDK)."""
