"""The use cases: one module of handlers per use case, each taking a command (a small dataclass named
as an imperative, ``service.commands``) and a unit of work. The HTTP routes, the pages, the command
line and the Celery tasks are thin adapters that build a command and call a handler; handlers call the
domain for every decision and the store for every read and write, and send work to the workers only
through the dispatcher port (``service.ports``), after their transaction has committed."""
