//! `#[derive(CEnum)]` for the C enums of siptls' `src/abi/`: the numbers a
//! C caller passes as `uint32_t` and the variant each one names, derived
//! from the declaration so that no list or `match` repeats it.
//!
//! The enums stay plain `#[repr(u32)] pub enum` declarations because
//! cbindgen reads them from the source (it does not expand macros); this
//! derive only adds code beside them.
//!
//! For a fieldless `#[repr(u32)]` enum whose every variant has its number
//! written out, it generates:
//!
//! - `pub const ALL: &'static [Self]`: every variant, in declaration order;
//! - `pub const fn from_u32(value: u32) -> Option<Self>`: the variant with
//!   that number, `None` for any other number;
//! - `impl crate::abi::CEnum`, the trait generic code (`ffi::arg_enum`)
//!   reads them through. The trait is siptls' own (`src/abi/c_enum.rs`), so
//!   the enum must live in the crate that declares it at that path.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields};

#[proc_macro_derive(CEnum)]
pub fn derive_c_enum(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let name = &input.ident;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            name,
            "CEnum is for C enums: a fieldless enum",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "CEnum is for C enums: no generic parameters",
        ));
    }
    if !is_repr_u32(input)? {
        // `as u32` below is the number C sees only with this representation.
        return Err(syn::Error::new_spanned(
            name,
            format!("{name} needs #[repr(u32)]: C passes its values as uint32_t"),
        ));
    }
    let mut variants = Vec::new();
    for variant in &data.variants {
        let ident = &variant.ident;
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(
                variant,
                format!("{ident} has fields: a C enum's variants are numbers only"),
            ));
        }
        if variant.discriminant.is_none() {
            // An implicit number moves when a variant is inserted above it,
            // and C callers compiled against the old header break silently.
            return Err(syn::Error::new_spanned(
                variant,
                format!("{ident} needs its number written out (`{ident} = N`): it is ABI"),
            ));
        }
        variants.push(ident);
    }
    Ok(quote! {
        #[automatically_derived]
        impl #name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[#(Self::#variants),*];

            /// The variant numbered `value`; `None` when no variant has that number.
            pub const fn from_u32(value: u32) -> ::core::option::Option<Self> {
                #(
                    if value == Self::#variants as u32 {
                        return ::core::option::Option::Some(Self::#variants);
                    }
                )*
                ::core::option::Option::None
            }
        }

        #[automatically_derived]
        impl crate::abi::CEnum for #name {
            const ALL: &'static [Self] = #name::ALL;

            fn from_u32(value: u32) -> ::core::option::Option<Self> {
                #name::from_u32(value)
            }
        }
    })
}

/// Whether the item carries `#[repr(u32)]` (possibly among other hints).
fn is_repr_u32(input: &DeriveInput) -> syn::Result<bool> {
    let mut found = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("repr")) {
        attr.parse_nested_meta(|meta| {
            found |= meta.path.is_ident("u32");
            Ok(())
        })?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(input: DeriveInput) -> String {
        expand(&input).unwrap_err().to_string()
    }

    #[test]
    fn an_enum_with_its_numbers_expands() {
        let out = expand(&syn::parse_quote! {
            #[repr(u32)]
            pub enum e { A = 1, B = 7 }
        })
        .unwrap()
        .to_string();
        assert!(out.contains("impl crate :: abi :: CEnum for e"), "{out}");
        assert!(out.contains("& [Self :: A , Self :: B]"), "{out}");
    }

    #[test]
    fn other_representations_are_refused() {
        let message = error_of(syn::parse_quote! {
            #[repr(C)]
            enum e { A = 0 }
        });
        assert_eq!(
            message,
            "e needs #[repr(u32)]: C passes its values as uint32_t"
        );
        let message = error_of(syn::parse_quote! {
            enum e { A = 0 }
        });
        assert_eq!(
            message,
            "e needs #[repr(u32)]: C passes its values as uint32_t"
        );
    }

    #[test]
    fn a_variant_without_its_number_is_refused() {
        let message = error_of(syn::parse_quote! {
            #[repr(u32)]
            enum e { A = 0, B }
        });
        assert_eq!(
            message,
            "B needs its number written out (`B = N`): it is ABI"
        );
    }

    #[test]
    fn fields_structs_and_generics_are_refused() {
        let message = error_of(syn::parse_quote! {
            #[repr(u32)]
            enum e { A = 0, B(u8) = 1 }
        });
        assert_eq!(
            message,
            "B has fields: a C enum's variants are numbers only"
        );
        let message = error_of(syn::parse_quote! {
            #[repr(C)]
            struct s { a: u32 }
        });
        assert_eq!(message, "CEnum is for C enums: a fieldless enum");
        let message = error_of(syn::parse_quote! {
            #[repr(u32)]
            enum e<T> { A = 0 }
        });
        assert_eq!(message, "CEnum is for C enums: no generic parameters");
    }
}
