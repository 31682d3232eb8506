//! What `#[derive(CEnum)]` generates, on enums shaped as C enums are: every
//! variant listed in declaration order and found again by its number, any
//! other number refused.

// The trait the derive implements, as siptls declares it.
#[path = "../../src/abi/c_enum.rs"]
mod abi;

use abi::CEnum;
use siptls_derive::CEnum;

#[allow(non_camel_case_types, clippy::upper_case_acronyms)] // spelled as the C enums are
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, CEnum)]
enum with_gaps {
    /// A doc comment, as the header's enums have.
    FIRST = 1,
    SECOND = 2,
    LATER = 100,
    OUT_OF_ORDER = 7,
    LAST = 0xffff_fffe,
}

#[test]
fn all_lists_every_variant_in_declaration_order() {
    use with_gaps::*;
    assert_eq!(with_gaps::ALL, &[FIRST, SECOND, LATER, OUT_OF_ORDER, LAST]);
    // The trait hands out the same list.
    assert_eq!(<with_gaps as CEnum>::ALL, with_gaps::ALL);
}

#[test]
fn every_variant_round_trips_through_its_number() {
    for &value in with_gaps::ALL {
        assert_eq!(with_gaps::from_u32(value as u32), Some(value));
        assert_eq!(<with_gaps as CEnum>::from_u32(value as u32), Some(value));
    }
}

#[test]
fn numbers_no_variant_has_are_refused() {
    for number in [0, 3, 6, 8, 99, 101, 0xffff_fffd, u32::MAX] {
        assert_eq!(with_gaps::from_u32(number), None, "{number}");
        assert_eq!(<with_gaps as CEnum>::from_u32(number), None, "{number}");
    }
}

#[test]
fn from_u32_is_usable_in_constants() {
    const LATER: Option<with_gaps> = with_gaps::from_u32(100);
    assert_eq!(LATER, Some(with_gaps::LATER));
}
