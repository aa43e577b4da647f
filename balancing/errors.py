"""The one error type of the engine's input validation."""

from __future__ import annotations


class ScenarioError(ValueError):
    """An input the engine refuses, with the path of the offending field.

    The message starts with the field's path (``chargers[2].phase_rotation: ...``)
    so that an operator reading a log or the CLI's output knows what to fix.
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}" if field else problem)

    def within(self, prefix: str) -> ScenarioError:
        """The same error, its field path placed under ``prefix`` (``chargers[2]``)."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return ScenarioError(field, self.problem)
