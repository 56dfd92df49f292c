"""Widgets of the viewer, one per module (record list, detail, logger tree, histogram...).

Import them from their modules (``from logview.tui.widgets.detail import DetailScreen``); this
package imports nothing so that loading one widget does not load them all.
"""
