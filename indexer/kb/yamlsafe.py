"""Safe YAML with bounds: no alias that refers to itself, no alias bomb, no nesting deep enough to recurse.

PyYAML's safe loader shares an aliased node instead of copying it, so `x: &a [*a]` loads as a list inside
itself and seven levels of aliases in a few hundred bytes as billions of values once anything walks them
(turning front matter into JSON does). Both are refused while the document is still a small graph of nodes.
"""

from __future__ import annotations

import yaml

# Values a KB file may expand to, aliases followed: the largest front matter in the shared help-centre
# corpora has under 100; a synonyms file for a large KB a few thousand.
MAX_YAML_VALUES = 100_000
# Deeper than any front matter or KB file needs; PyYAML recurses once per level.
MAX_YAML_DEPTH = 50


class YAMLBomb(yaml.YAMLError):
    """A document that refers to itself or expands beyond the bounds."""

    def __init__(self, problem: str, node: yaml.Node):
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = node.start_mark


def expanded_size(root: yaml.Node) -> int:
    """How many values `root` holds with every alias followed; YAMLBomb for a cycle or beyond the bounds."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    # An explicit stack (node, depth, children done) instead of recursion: the nesting is not yet bounded.
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > MAX_YAML_VALUES:
                raise YAMLBomb(f"expands to more than {MAX_YAML_VALUES:,} values through aliases", node)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise YAMLBomb("an alias refers to the value that contains it", node)
        if depth > MAX_YAML_DEPTH:
            raise YAMLBomb(f"nested more than {MAX_YAML_DEPTH} levels deep", node)
        open_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node) if id(child) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


# libyaml's parser when PyYAML was built with it: with the pure-Python one, front matter took about four
# fifths of reading an article (all 2,459 of ms-officedocs-support: 8.8 s, with libyaml 2.1 s).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class BoundedSafeLoader(_SafeLoader):
    """The safe loader that checks the composed document with `expanded_size` before building values."""

    def construct_document(self, node):
        """Refuse cycles and bombs, then construct as SafeLoader does."""
        expanded_size(node)
        return super().construct_document(node)


def load(text: str, loader: type[BoundedSafeLoader] = BoundedSafeLoader):
    """The data in a YAML document; yaml.YAMLError (YAMLBomb included) for anything wrong with it."""
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise yaml.YAMLError(f"nested more than {MAX_YAML_DEPTH} levels deep") from None
