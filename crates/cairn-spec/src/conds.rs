//! Static structure of conditional blocks (`%if` ... `%else` ... `%endif`), independent of
//! how they evaluate: which directive lines belong together and which block/branch every
//! line sits in. Used by edits to place new lines at depth 0 and to cut sections cleanly.

use std::collections::HashMap;
use std::ops::Range;

use crate::spec::{Kind, Spec};

/// Conditional structure of a spec.
#[derive(Debug)]
pub(crate) struct CondMap {
    /// Per item: the block a directive line belongs to.
    group_of: Vec<Option<usize>>,
    /// Per block: its directive items in order (`%if`, `%elif`/`%else`..., `%endif`).
    groups: Vec<Vec<usize>>,
    /// Per item: id of its context (the chain of enclosing block/branch pairs). Directive
    /// lines get the context outside their own block.
    ctx_of: Vec<usize>,
    contexts: Vec<Vec<(usize, usize)>>,
    ids: HashMap<Vec<(usize, usize)>, usize>,
}

impl CondMap {
    pub(crate) fn build(spec: &Spec) -> CondMap {
        let n = spec.items.len();
        let mut map = CondMap {
            group_of: vec![None; n],
            groups: Vec::new(),
            ctx_of: vec![0; n],
            contexts: vec![Vec::new()],
            ids: HashMap::from([(Vec::new(), 0)]),
        };
        let mut stack: Vec<(usize, usize)> = Vec::new();
        let mut current = 0;
        for (i, item) in spec.items.iter().enumerate() {
            let Kind::Cond(kind, _) = item.kind else {
                map.ctx_of[i] = current;
                continue;
            };
            if kind.opens() {
                map.ctx_of[i] = current;
                let g = map.groups.len();
                map.groups.push(vec![i]);
                map.group_of[i] = Some(g);
                stack.push((g, 0));
            } else if let Some(top) = stack.last_mut() {
                let g = top.0;
                map.groups[g].push(i);
                map.group_of[i] = Some(g);
                if kind.is_branch() {
                    top.1 += 1;
                } else {
                    stack.pop();
                }
                map.ctx_of[i] = map.intern(&stack[..stack.len() - usize::from(kind.is_branch())]);
            } else {
                // stray `%else`/`%endif`: a block of its own
                map.ctx_of[i] = current;
                map.group_of[i] = Some(map.groups.len());
                map.groups.push(vec![i]);
                continue;
            }
            current = map.intern(&stack);
        }
        map
    }

    fn intern(&mut self, ctx: &[(usize, usize)]) -> usize {
        if let Some(&id) = self.ids.get(ctx) {
            return id;
        }
        self.contexts.push(ctx.to_vec());
        self.ids.insert(ctx.to_vec(), self.contexts.len() - 1);
        self.contexts.len() - 1
    }

    /// The directive items of the block item `i` belongs to (if it is a directive).
    pub(crate) fn group(&self, i: usize) -> Option<&[usize]> {
        self.group_of[i].map(|g| self.groups[g].as_slice())
    }

    /// Whether the context of item `outer` encloses (or equals) the context of item `inner`.
    pub(crate) fn encloses(&self, outer: usize, inner: usize) -> bool {
        let a = &self.contexts[self.ctx_of[outer]];
        let b = &self.contexts[self.ctx_of[inner]];
        b.starts_with(a)
    }

    /// Whether directive item `i` belongs to a block with lines outside `range`.
    pub(crate) fn straddles(&self, i: usize, range: &Range<usize>) -> bool {
        self.group(i)
            .is_some_and(|g| g.iter().any(|j| !range.contains(j)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_contexts() {
        let spec = Spec::parse("a\n%if 1\nb\n%if 2\nc\n%endif\n%else\nd\n%endif\n%endif\ne\n");
        let m = CondMap::build(&spec);
        assert_eq!(m.group(1), Some(&[1, 6, 8][..]));
        assert_eq!(m.group(3), Some(&[3, 5][..]));
        assert_eq!(m.group(9), Some(&[9][..]));
        assert!(m.encloses(0, 2));
        assert!(m.encloses(2, 4));
        assert!(!m.encloses(4, 2));
        assert!(!m.encloses(2, 7));
        assert!(m.encloses(0, 10) && m.encloses(10, 0));
        assert!(m.straddles(3, &(0..5)));
        assert!(!m.straddles(3, &(3..6)));
    }
}
