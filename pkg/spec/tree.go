package spec

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// maxAliasNodes bounds how many nodes the aliases of one document may expand
// to. A connection manifest has a few dozen nodes, but an alias bomb
// ("billion laughs") reaches millions in a few lines. yaml.v3 checks
// aliasing only when it decodes into Go values, not into a yaml.Node tree,
// so the check is made here.
const maxAliasNodes = 10_000

type nodeKind int

const (
	scalarNode nodeKind = iota
	nullNode
	mappingNode
	sequenceNode
)

// node is a YAML value after aliases and merge keys are expanded. Scalars
// keep their source text: "03306" stays "03306" and "NO" stays "NO".
type node struct {
	kind  nodeKind
	line  int
	col   int
	text  string     // scalar source text, as in yaml.Node.Value
	style yaml.Style // scalar quoting style, used to locate a "$" in the source
	pairs []pair     // mapping entries, explicit keys first, then merged ones
	items []*node    // sequence items
	size  int        // nodes in the subtree, to bound alias expansion
}

type pair struct {
	key     string
	keyLine int
	keyCol  int
	value   *node
}

// lookup returns the value of key in a mapping.
func (n *node) lookup(key string) (pair, bool) {
	for _, p := range n.pairs {
		if p.key == key {
			return p, true
		}
	}
	return pair{}, false
}

// describeKind names the kind of n as an error message shows it.
func describeKind(n *node) string {
	switch n.kind {
	case nullNode:
		return "null"
	case mappingNode:
		return "a mapping"
	case sequenceNode:
		return "a sequence"
	}
	return "a string"
}

// treeBuilder converts one document's yaml.Node tree into nodes. It reports
// duplicate keys, which yaml.v3 accepts in a node tree, and stops at alias
// cycles and alias bombs.
type treeBuilder struct {
	file     string
	memo     map[*yaml.Node]*node
	active   map[*yaml.Node]bool // nodes being built, to catch alias cycles
	expanded int
	fatal    bool
	errs     []*Error
}

func newTreeBuilder(file string) *treeBuilder {
	return &treeBuilder{file: file, memo: map[*yaml.Node]*node{}, active: map[*yaml.Node]bool{}}
}

func (b *treeBuilder) pos(n *yaml.Node) Position {
	return Position{File: b.file, Line: n.Line, Col: n.Column}
}

func (b *treeBuilder) errorf(n *yaml.Node, field, format string, args ...any) {
	b.errs = append(b.errs, newError(b.pos(n), field, format, args...))
}

// build converts n, found at field path, and returns nil after a fatal error.
func (b *treeBuilder) build(n *yaml.Node, field string) *node {
	if b.fatal {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		return b.buildAlias(n, field)
	}
	// Only anchored nodes can be reached twice, through aliases: remember
	// them, and mark them while they are built so that an alias inside one
	// that refers back to it is caught as a cycle.
	anchored := n.Anchor != ""
	if anchored {
		if done, ok := b.memo[n]; ok {
			return done
		}
		b.active[n] = true
		defer delete(b.active, n)
	}

	var out *node
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return &node{kind: nullNode, line: n.Line, col: n.Column, size: 1}
		}
		return b.build(n.Content[0], field)
	case yaml.ScalarNode:
		out = b.buildScalar(n, field)
	case yaml.MappingNode:
		out = b.buildMapping(n, field)
	case yaml.SequenceNode:
		out = b.buildSequence(n, field)
	default:
		b.errorf(n, field, "unsupported YAML node kind %d", n.Kind)
		out = &node{kind: nullNode, line: n.Line, col: n.Column, size: 1}
	}

	if out != nil && anchored {
		b.memo[n] = out
	}
	return out
}

func (b *treeBuilder) buildAlias(n *yaml.Node, field string) *node {
	target := n.Alias
	if target == nil {
		b.errorf(n, field, "alias *%s refers to no anchor", n.Value)
		b.fatal = true
		return nil
	}
	if b.active[target] {
		b.errorf(n, field, "alias *%s refers to a value that contains the alias itself", n.Value)
		b.fatal = true
		return nil
	}
	out := b.build(target, field)
	if out == nil {
		return nil
	}
	b.expanded += out.size
	if b.expanded > maxAliasNodes {
		b.errorf(n, field, "aliases expand to more than %d values; the limit protects against alias bombs", maxAliasNodes)
		b.fatal = true
		return nil
	}
	return out
}

// allowedTags are the explicit tags that only restate how a plain scalar,
// mapping or sequence resolves. Any other tag, such as !!binary or an
// application tag, would give the text a meaning that apply does not
// implement.
var allowedTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true,
	"!!timestamp": true, "!!null": true, "!!map": true, "!!seq": true,
	"!": true,
}

func (b *treeBuilder) checkTag(n *yaml.Node, field string) bool {
	if n.Style&yaml.TaggedStyle == 0 || allowedTags[n.Tag] {
		return true
	}
	b.errorf(n, field, "unsupported YAML tag %s: expected an untagged value", n.Tag)
	return false
}

func (b *treeBuilder) buildScalar(n *yaml.Node, field string) *node {
	out := &node{kind: scalarNode, line: n.Line, col: n.Column, text: n.Value, style: n.Style, size: 1}
	if !b.checkTag(n, field) {
		return out
	}
	if n.ShortTag() == "!!null" {
		out.kind = nullNode
	}
	return out
}

func (b *treeBuilder) buildSequence(n *yaml.Node, field string) *node {
	out := &node{kind: sequenceNode, line: n.Line, col: n.Column, size: 1}
	b.checkTag(n, field)
	for i, item := range n.Content {
		child := b.build(item, fmt.Sprintf("%s[%d]", field, i))
		if child == nil {
			return nil
		}
		out.items = append(out.items, child)
		out.size += child.size
	}
	return out
}

func (b *treeBuilder) buildMapping(n *yaml.Node, field string) *node {
	out := &node{kind: mappingNode, line: n.Line, col: n.Column, size: 1}
	b.checkTag(n, field)
	seen := map[string]*yaml.Node{}
	var merged []*node
	for i := 0; i+1 < len(n.Content); i += 2 {
		keyNode, valueNode := n.Content[i], n.Content[i+1]
		if keyNode.Kind == yaml.AliasNode && keyNode.Alias != nil {
			keyNode = keyNode.Alias
		}
		if isMergeKey(keyNode) {
			sources, ok := b.mergeSources(valueNode, field)
			if !ok {
				return nil
			}
			merged = append(merged, sources...)
			continue
		}
		key, ok := b.keyText(keyNode, field)
		if !ok {
			continue
		}
		path := joinField(field, key)
		if first, dup := seen[key]; dup {
			b.errorf(keyNode, path, "duplicate key %s: first defined at line %d, column %d", quote(key), first.Line, first.Column)
			continue
		}
		seen[key] = keyNode
		value := b.build(valueNode, path)
		if value == nil {
			return nil
		}
		out.pairs = append(out.pairs, pair{key: key, keyLine: keyNode.Line, keyCol: keyNode.Column, value: value})
		out.size += value.size
	}

	// Merged entries fill in keys the mapping does not set itself. Among
	// several merged mappings, the first one to set a key wins.
	for _, src := range merged {
		for _, p := range src.pairs {
			if _, ok := seen[p.key]; ok {
				continue
			}
			seen[p.key] = &yaml.Node{Line: p.keyLine, Column: p.keyCol}
			out.pairs = append(out.pairs, p)
			out.size += p.value.size
		}
	}
	return out
}

func isMergeKey(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!merge"
}

// mergeSources returns the mappings that a merge key's value names: one
// mapping or a sequence of mappings, usually given as aliases.
func (b *treeBuilder) mergeSources(value *yaml.Node, field string) ([]*node, bool) {
	v := b.build(value, field)
	if v == nil {
		return nil, false
	}
	switch v.kind {
	case mappingNode:
		return []*node{v}, true
	case sequenceNode:
		for _, item := range v.items {
			if item.kind != mappingNode {
				b.errs = append(b.errs, newError(Position{File: b.file, Line: item.line, Col: item.col}, field, "merge key \"<<\": expected a mapping, found %s", describeKind(item)))
				return nil, true
			}
		}
		return v.items, true
	}
	b.errorf(value, field, "merge key \"<<\": expected a mapping or a sequence of mappings, found %s", describeKind(v))
	return nil, true
}

func (b *treeBuilder) keyText(n *yaml.Node, field string) (string, bool) {
	if !b.checkTag(n, field) {
		return "", false
	}
	switch {
	case n.Kind == yaml.MappingNode:
		b.errorf(n, field, "expected a string key, found a mapping")
	case n.Kind == yaml.SequenceNode:
		b.errorf(n, field, "expected a string key, found a sequence")
	case n.ShortTag() == "!!null":
		b.errorf(n, field, "expected a string key, found null")
	default:
		return n.Value, true
	}
	return "", false
}
