//! What every C enum provides: its values and the variant a number names.

/// A C enum, passed across the ABI as `uint32_t`. Implemented by
/// `#[derive(CEnum)]` (siptls-derive) from the enum's declaration, never by
/// hand: the declaration is the one list of values.
pub trait CEnum: Sized + Copy + 'static {
    /// Every variant, in declaration order.
    const ALL: &'static [Self];

    /// The variant numbered `value`; `None` when no variant has that number.
    fn from_u32(value: u32) -> Option<Self>;
}
