"""A Markdown table for the terminal: readable as it is printed, and pasteable into an issue or a wiki."""

from typing import Sequence


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def cell(value: str) -> str:
        # A "|" would end the cell early and a line break would end the row.
        return " ".join(str(value).split()).replace("|", "\\|")

    cells = [[cell(value) for value in row] for row in [header, *rows]]
    widths = [max(len(row[column]) for row in cells) for column in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(value.ljust(width) for value, width in zip(row, widths)) + " |"

    return "\n".join([line(cells[0]), line(["-" * width for width in widths]), *map(line, cells[1:])])
