"""A rule's tunable parameters: numbers with bounds, whole numbers, and named choices.

Every value a user can give (`--param funnel.overdispersion=additive` on the command line, the
form on the Flags page, `params=` in Python) is checked here, so an unknown key or a value out of
bounds is refused the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from capwatch.errors import CapwatchError

Value = float | int | str


class FlagRuleError(CapwatchError):
    """An unknown rule or parameter, or a value outside its bounds."""


@dataclass(frozen=True)
class Param:
    """One parameter of a rule.

    A number (`integer` for whole numbers) between `minimum` and `maximum` inclusive, or, when
    `choices` is given, one of those names (its default a name too).
    """

    key: str
    label: str
    default: Value
    help: str
    minimum: float = 0.0
    maximum: float = 0.0
    integer: bool = False
    step: float = 0.01
    choices: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """`choice`, `integer` or `number`."""
        return "choice" if self.choices else "integer" if self.integer else "number"

    def check(self, value: object) -> Value:
        """The value, checked and in its proper type (a name, an int or a float)."""
        if self.choices:
            name = str(value).strip().lower()
            if name not in self.choices:
                raise FlagRuleError(
                    f"{self.key} must be one of {', '.join(self.choices)}, got {value!r}"
                )
            return name
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise FlagRuleError(f"{self.key} needs a number, got {value!r}")
        try:
            number = float(value)
        except ValueError:
            raise FlagRuleError(f"{self.key} needs a number, got {value!r}") from None
        if not self.minimum <= number <= self.maximum:
            raise FlagRuleError(
                f"{self.key} must be between {self.minimum:g} and {self.maximum:g}, got {number:g}"
            )
        if self.integer:
            if number != int(number):
                raise FlagRuleError(f"{self.key} must be a whole number, got {number:g}")
            return int(number)
        return number

    def describe_default(self) -> str:
        return str(self.default) if self.choices else f"{self.default:g}"

    def describe_range(self) -> str:
        if self.choices:
            return " / ".join(self.choices)
        return f"{self.minimum:g} – {self.maximum:g}"


def number(
    key: str, label: str, default: float, minimum: float, maximum: float, help: str, step: float
) -> Param:
    return Param(key, label, default, help, minimum, maximum, step=step)


def whole(key: str, label: str, default: int, minimum: int, maximum: int, help: str) -> Param:
    return Param(key, label, default, help, minimum, maximum, integer=True, step=1)


def choice(key: str, label: str, default: str, choices: tuple[str, ...], help: str) -> Param:
    if default not in choices:
        raise ValueError(f"default {default!r} of {key} is not one of {choices}")
    return Param(key, label, default, help, choices=choices)
