//! Long lists shown a page at a time (Activities, a report's breaches): which page was
//! asked for, where it starts, and whether there are newer or older pages. Page 1 is the
//! newest (or first); a page past the end is read as the last one, so a list that shrank
//! between two clicks still shows something.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Page {
    /// 1-based, within `1..=pages`.
    pub number: u64,
    pub pages: u64,
    pub per_page: u64,
    /// Everything in the list, on every page.
    pub total: u64,
    /// 1-based position of the first and the last item on this page (0 and 0 when empty).
    pub first: u64,
    pub last: u64,
}

impl Page {
    /// Page `asked` (1 when absent or 0) of `total` items, `per_page` (at least 1) a page.
    pub fn of(asked: Option<u64>, per_page: u64, total: u64) -> Page {
        let per_page = per_page.max(1);
        let pages = total.div_ceil(per_page).max(1);
        let number = asked.unwrap_or(1).clamp(1, pages);
        let offset = (number - 1) * per_page;
        let (first, last) = if total == 0 { (0, 0) } else { (offset + 1, (offset + per_page).min(total)) };
        Page { number, pages, per_page, total, first, last }
    }

    /// How many items come before this page (for `OFFSET`, or to skip in a slice).
    pub fn offset(&self) -> u64 {
        (self.number - 1) * self.per_page
    }

    pub fn previous(&self) -> Option<u64> {
        (self.number > 1).then(|| self.number - 1)
    }

    pub fn next(&self) -> Option<u64> {
        (self.number < self.pages).then(|| self.number + 1)
    }

    /// Whether the list is longer than one page.
    pub fn is_partial(&self) -> bool {
        self.pages > 1
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn pages_of_a_list() {
        // (asked, per page, total) → (number, pages, first, last, previous, next)
        let cases = [
            (None, 500, 7807, (1, 16, 1, 500, None, Some(2))),
            (Some(2), 500, 7807, (2, 16, 501, 1000, Some(1), Some(3))),
            (Some(16), 500, 7807, (16, 16, 7501, 7807, Some(15), None)),
            (Some(99), 500, 7807, (16, 16, 7501, 7807, Some(15), None)),
            (Some(0), 500, 7807, (1, 16, 1, 500, None, Some(2))),
            (None, 500, 500, (1, 1, 1, 500, None, None)),
            (None, 500, 501, (1, 2, 1, 500, None, Some(2))),
            (None, 50, 0, (1, 1, 0, 0, None, None)),
            (Some(3), 0, 2, (2, 2, 2, 2, Some(1), None)),
        ];
        for (asked, per_page, total, expected) in cases {
            let page = Page::of(asked, per_page, total);
            assert_eq!(
                (page.number, page.pages, page.first, page.last, page.previous(), page.next()),
                expected,
                "{asked:?} of {total} at {per_page} a page"
            );
        }
        assert_eq!(Page::of(Some(3), 50, 1000).offset(), 100);
        assert!(Page::of(None, 500, 501).is_partial() && !Page::of(None, 500, 500).is_partial());
    }
}
