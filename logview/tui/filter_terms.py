"""The filter list's model: the applied query's top-level terms, each on or off.

The query text stays the one truth of what is applied: a term switched off is left out of
the text handed to the query bar and kept here, so that switching it on again gives back the
text as it was typed (its place, the spaces or ``and`` before it). Whatever else edits the
query (typing, the level keys, the logger tree, the histogram) is taken in by ``sync``; the
terms switched off stay in the list, after the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from logview.query.spans import conjunct_spans


@dataclass(slots=True)
class FilterTerm:
    """One top-level term of the query (``-logger:urllib3``, ``(a or b)``, ``since:-1h``)."""

    text: str
    enabled: bool = True
    #: What stood between it and the term before it as typed (``" "``, ``" and "``).
    lead: str = " "
    #: A top-level ``or`` (the whole query typed): grouped when joined with other terms.
    any_of: bool = False


class FilterTerms:
    """The terms of the applied query and those switched off, in list order."""

    def __init__(self) -> None:
        self.terms: list[FilterTerm] = []
        #: Text before the first term and after the last, as typed (kept for round trips).
        self._head = ""
        self._tail = ""

    def __len__(self) -> int:
        return len(self.terms)

    def text(self) -> str:
        """The query to apply: the terms switched on, as typed."""
        shown = [term for term in self.terms if term.enabled]
        if not shown:
            return ""
        parts = [self._head]
        for index, term in enumerate(shown):
            if index:
                # Never glue two terms together (``"a"b``, the term between them switched off).
                lead = term.lead
                parts.append(lead if lead[:1].isspace() and lead[-1:].isspace() else " ")
            parts.append(f"({term.text})" if term.any_of and len(shown) > 1 else term.text)
        parts.append(self._tail)
        return "".join(parts)

    def sync(self, applied: str) -> bool:
        """Take in the query applied now; False when it is what this list applies already.

        The terms switched off stay (after the others) unless the query has them again.
        """
        if applied == self.text():
            return False
        spans = conjunct_spans(applied)
        terms: list[FilterTerm] = []
        previous_end = None
        for span in spans:
            lead = " " if previous_end is None else applied[previous_end:span.start]
            terms.append(FilterTerm(span.text, True, lead, span.any_of))
            previous_end = span.end
        texts = {term.text for term in terms}
        terms += [FilterTerm(term.text, False, " ", term.any_of)
                  for term in self.terms if not term.enabled and term.text not in texts]
        self.terms = terms
        self._head = applied[:spans[0].start] if spans else ""
        self._tail = applied[spans[-1].end:] if spans else ""
        return True

    def toggle(self, index: int) -> str:
        """Switch term ``index`` on or off; returns the query to apply."""
        term = self.terms[index]
        term.enabled = not term.enabled
        return self.text()

    def remove(self, index: int) -> str:
        """Drop term ``index``; returns the query to apply."""
        del self.terms[index]
        return self.text()
