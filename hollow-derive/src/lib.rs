//! `#[derive(Hollow)]`: derives the hollow schema, the writer and a zero-copy view type of a
//! Rust struct, or the string encoding of a unit-only enum. Use it through `hollow`
//! (`use hollow::Hollow;`): the generated code refers to `::hollow::typed`, where the
//! mapping of Rust types to hollow types is documented.
//!
//! Attributes, all under `#[hollow(...)]`:
//!
//! * on a struct or enum: `rename = "Name"`, the hollow type name (default: the Rust name);
//! * on a field: `primary_key` (several fields make a composite key, in declaration order),
//!   `compressed` (a `String` field stored FSST-compressed; its view returns a `Cow`),
//!   `rename = "name"`;
//! * on an enum variant: `rename = "NAME"`, the stored string (default: the variant name).
//!
//! A struct `Video` gets a view type `VideoView<'a>` (one method per field, named like the
//! field) and a column type `VideoColumns<'a>` (hidden), both with the struct's visibility.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, Fields, LitStr};

/// Derives `hollow::typed::Hollow` (and its field, element and view types) for a struct with
/// named fields, or the field and key encoding of a unit-only enum. See the crate docs.
#[proc_macro_derive(Hollow, attributes(hollow))]
pub fn derive_hollow(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    match derive(&input) {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

#[derive(Default)]
struct Attrs {
    rename: Option<String>,
    primary_key: bool,
    compressed: bool,
}

/// Parses the `#[hollow(...)]` attributes; `allowed` lists the keys valid at this place.
fn attrs(list: &[syn::Attribute], allowed: &[&str], place: &str) -> syn::Result<Attrs> {
    let mut out = Attrs::default();
    let mut seen: Vec<String> = Vec::new();
    for a in list.iter().filter(|a| a.path().is_ident("hollow")) {
        a.parse_nested_meta(|m| {
            let key = m
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            if !allowed.contains(&key.as_str()) {
                return Err(m.error(format!(
                    "unknown hollow attribute on {place}: expected {}",
                    allowed.join(", ")
                )));
            }
            if seen.contains(&key) {
                let hint = if key == "primary_key" {
                    ": a field is part of the key or not (to make a composite key, mark each of its fields once)"
                } else {
                    ": give it once"
                };
                return Err(m.error(format!("hollow attribute `{key}` given twice on {place}{hint}")));
            }
            seen.push(key.clone());
            match key.as_str() {
                "rename" => out.rename = Some(m.value()?.parse::<LitStr>()?.value()),
                "primary_key" => out.primary_key = true,
                _ => out.compressed = true,
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn derive(input: &DeriveInput) -> syn::Result<Tokens> {
    if !input.generics.params.is_empty() {
        return Err(Error::new(
            input.generics.span(),
            "#[derive(Hollow)] does not support generic parameters: declare the type without them (views borrow strings from the data, so fields can be String)",
        ));
    }
    let top = attrs(&input.attrs, &["rename"], "a type")?;
    let type_name = top.rename.unwrap_or_else(|| input.ident.to_string());
    match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(f) => derive_struct(input, &type_name, f),
            _ => Err(Error::new(
                input.ident.span(),
                "#[derive(Hollow)] needs a struct with named fields (each becomes a field of the object type)",
            )),
        },
        Data::Enum(e) => derive_enum(input, e),
        Data::Union(_) => Err(Error::new(
            input.ident.span(),
            "#[derive(Hollow)] works on structs with named fields and unit-only enums, not unions",
        )),
    }
}

struct FieldInfo<'a> {
    ident: &'a syn::Ident,
    ty: &'a syn::Type,
    vis: &'a syn::Visibility,
    name: String,
    attrs: Attrs,
}

fn derive_struct(
    input: &DeriveInput,
    type_name: &str,
    named: &syn::FieldsNamed,
) -> syn::Result<Tokens> {
    let h = quote!(::hollow::typed);
    let p = quote!(::hollow::typed::__private);
    let ident = &input.ident;
    let vis = &input.vis;
    let view = format_ident!("{}View", ident);
    let columns = format_ident!("{}Columns", ident);

    let mut fields = Vec::new();
    for f in &named.named {
        let Some(fident) = &f.ident else { continue };
        let a = attrs(
            &f.attrs,
            &["primary_key", "compressed", "rename"],
            "a field",
        )?;
        let name = a.rename.clone().unwrap_or_else(|| {
            let s = fident.to_string();
            s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
        });
        if let Some(prev) = fields.iter().find(|x: &&FieldInfo<'_>| x.name == name) {
            return Err(Error::new(
                f.span(),
                format!(
                    "two fields are named {name:?} in the hollow type (field `{}` too): rename one with #[hollow(rename = \"...\")]",
                    prev.ident
                ),
            ));
        }
        fields.push(FieldInfo {
            ident: fident,
            ty: &f.ty,
            vis: &f.vis,
            name,
            attrs: a,
        });
    }

    let pk: Vec<&FieldInfo<'_>> = fields.iter().filter(|f| f.attrs.primary_key).collect();
    let pk_names: Vec<&str> = pk.iter().map(|f| f.name.as_str()).collect();
    let key_ty = match pk.as_slice() {
        [] => quote!(()),
        [one] => {
            let ty = one.ty;
            quote_spanned!(ty.span()=> #ty)
        }
        many => {
            let tys = many.iter().map(|f| {
                let ty = f.ty;
                quote_spanned!(ty.span()=> #ty)
            });
            quote!((#(#tys,)*))
        }
    };
    let set_pk = (!pk.is_empty()).then(|| {
        quote!(o.primary_key = ::core::option::Option::Some(::std::vec![#(#pk_names.to_string()),*]);)
    });

    let mut col_fields = Vec::new();
    let mut methods = Vec::new();
    let mut declares = Vec::new();
    let mut builds = Vec::new();
    let mut values = Vec::new();
    for f in &fields {
        let (fi, ty, fname, fvis) = (f.ident, f.ty, &f.name, f.vis);
        let compressed = f.attrs.compressed;
        let doc = format!("The `{fname}` field of the record.");
        let col_doc = format!("The column handle of the `{fname}` field.");
        if compressed {
            col_fields.push(quote!(#[doc = #col_doc] #fvis #fi: #p::StrColumn<'a>));
            methods.push(quote_spanned! {ty.span()=>
                #[doc = #doc]
                #[inline(always)]
                #fvis fn #fi(&self) -> <#ty as #h::CompressedField>::Out<'a> {
                    <#ty as #h::CompressedField>::get(&self.table.columns().#fi, self.ordinal)
                }
            });
            builds.push(quote_spanned! {ty.span()=>
                #fi: <#ty as #h::CompressedField>::column(cx, object, #fname)?
            });
        } else {
            col_fields.push(
                quote_spanned!(ty.span()=> #[doc = #col_doc] #fvis #fi: <#ty as #h::Field>::Column<'a>),
            );
            methods.push(quote_spanned! {ty.span()=>
                #[doc = #doc]
                #[inline(always)]
                #fvis fn #fi(&self) -> <#ty as #h::Field>::Out<'a> {
                    <#ty as #h::Field>::get(&self.table.columns().#fi, self.ordinal)
                }
            });
            builds.push(quote_spanned! {ty.span()=>
                #fi: <#ty as #h::Field>::column(cx, object, #fname, false)?
            });
        }
        declares.push(quote_spanned! {ty.span()=>
            o.fields.push(#h::declare_field::<#ty>(reg, #fname, #compressed));
        });
        values.push(quote_spanned!(ty.span()=> #h::Field::to_value(&self.#fi, sink)?));
    }

    let struct_field = field_impl(
        ident,
        quote!(#p::object_field::declare::<Self>(reg)),
        quote!(#p::Value::Ref(#p::object_field::add(self, sink)?)),
        quote!(#h::RefColumn<'a, Self>),
        quote!(#view<'a>),
        quote!(#p::object_field),
    );
    let view_doc = format!(
        "A borrowed view of a record of [`{ident}`] (hollow type `{type_name}`): one method per field, reading the data in place."
    );
    let columns_doc = format!(
        "The column handles of [`{ident}`]'s views, one per field (from [`Table::columns`](::hollow::typed::Table::columns)): for loops that read a column directly, e.g. by the pool ids of its strings."
    );
    Ok(quote! {
        #[doc = #columns_doc]
        #[allow(dead_code)] // a column is read only by its view method, which may go unused
        #vis struct #columns<'a> {
            #(#col_fields,)*
        }

        #[doc = #view_doc]
        #[derive(Clone, Copy)]
        #vis struct #view<'a> {
            table: &'a #h::Table<'a, #ident>,
            ordinal: u32,
        }

        impl ::core::fmt::Debug for #view<'_> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(::core::stringify!(#view))
                    .field("ordinal", &self.ordinal)
                    .finish()
            }
        }

        #[allow(dead_code)] // views of a model come with every method, used or not
        impl<'a> #view<'a> {
            /// The record's ordinal.
            #[inline(always)]
            pub fn ordinal(&self) -> u32 {
                self.ordinal
            }

            /// The table the record belongs to.
            #[inline(always)]
            pub fn table(&self) -> &'a #h::Table<'a, #ident> {
                self.table
            }

            #(#methods)*
        }

        impl #h::Hollow for #ident {
            const TYPE_NAME: &'static str = #type_name;
            const PRIMARY_KEY: &'static [&'static str] = &[#(#pk_names),*];
            type Key = #key_ty;
            type Columns<'a> = #columns<'a>;
            type View<'a> = #view<'a>;

            fn object_schema(reg: &mut #h::Registry) -> #p::ObjectSchema {
                let mut o = #p::ObjectSchema::new(#type_name);
                #(#declares)*
                #set_pk
                o
            }

            fn columns<'a>(
                cx: &mut #h::Build<'a>,
                object: &#p::ObjectView<'a>,
            ) -> #h::Result<#columns<'a>> {
                ::core::result::Result::Ok(#columns { #(#builds,)* })
            }

            #[inline(always)]
            fn view<'a>(table: &'a #h::Table<'a, Self>, ordinal: u32) -> #view<'a> {
                #view { table, ordinal }
            }

            fn write_with<S: #h::Sink + ?Sized, R, E: ::core::convert::From<#h::TypedError>>(
                &self,
                sink: &mut S,
                f: impl ::core::ops::FnOnce(&mut S, &[#p::Value<'_>]) -> ::core::result::Result<R, E>,
            ) -> ::core::result::Result<R, E> {
                let values = [#(#values),*];
                f(sink, &values)
            }
        }

        #struct_field

        impl #h::Element for #ident {
            fn element_name() -> #p::Cow<'static, str> {
                #p::Cow::Borrowed(#type_name)
            }
            fn declare_element(reg: &mut #h::Registry) -> ::std::string::String {
                reg.object::<Self>().to_string()
            }
            fn add_element<S: #h::Sink + ?Sized>(&self, sink: &mut S) -> #h::Result<u32> {
                #p::object_field::add(self, sink)
            }
            type Reader<'a> = ::std::boxed::Box<#h::Table<'a, Self>>;
            type Item<'a> = #view<'a>;
            fn reader<'a>(cx: &mut #h::Build<'a>) -> #h::Result<Self::Reader<'a>> {
                #p::object_field::reader(cx)
            }
            #[inline(always)]
            fn item<'a>(reader: &'a Self::Reader<'a>, ordinal: u32) -> #view<'a> {
                #view { table: reader, ordinal }
            }
        }
    })
}

fn derive_enum(input: &DeriveInput, e: &syn::DataEnum) -> syn::Result<Tokens> {
    let h = quote!(::hollow::typed);
    let p = quote!(::hollow::typed::__private);
    let ident = &input.ident;
    let mut names = Vec::new();
    let mut variants = Vec::new();
    for v in &e.variants {
        if !matches!(v.fields, Fields::Unit) {
            return Err(Error::new(
                v.span(),
                "#[derive(Hollow)] on an enum needs unit variants only (a field stores the variant's name): move the data into a struct",
            ));
        }
        let a = attrs(&v.attrs, &["rename"], "a variant")?;
        let name = a.rename.unwrap_or_else(|| v.ident.to_string());
        if names.contains(&name) {
            return Err(Error::new(
                v.span(),
                format!("two variants are stored as {name:?}"),
            ));
        }
        names.push(name);
        variants.push(&v.ident);
    }
    let Some(first) = variants.first() else {
        return Err(Error::new(
            Span::call_site(),
            "#[derive(Hollow)] needs an enum with at least one variant",
        ));
    };
    let idx: Vec<usize> = (0..variants.len()).collect();
    let rust_name = ident.to_string();
    let enum_field = field_impl(
        ident,
        quote!(#p::FieldKind::Primitive(#p::Primitive::String)),
        quote!(#p::enum_field::value(self)),
        quote!(#h::EnumColumn<'a, Self>),
        quote!(Self),
        quote!(#p::enum_field),
    );
    Ok(quote! {
        impl #h::EnumNames for #ident {
            const RUST_NAME: &'static str = #rust_name;
            const VARIANTS: &'static [&'static str] = &[#(#names),*];
            #[inline]
            fn from_index(i: usize) -> Self {
                match i {
                    #(#idx => #ident::#variants,)*
                    _ => #ident::#first,
                }
            }
            #[inline]
            fn index(&self) -> usize {
                match self {
                    #(#ident::#variants => #idx,)*
                }
            }
        }

        #enum_field

        impl #h::Element for #ident {
            fn element_name() -> #p::Cow<'static, str> {
                #p::Cow::Borrowed("String")
            }
            fn declare_element(reg: &mut #h::Registry) -> ::std::string::String {
                reg.wrapper("String", #p::FieldKind::Primitive(#p::Primitive::String))
            }
            fn add_element<S: #h::Sink + ?Sized>(&self, sink: &mut S) -> #h::Result<u32> {
                #p::enum_field::add(self, sink)
            }
            type Reader<'a> = #h::EnumColumn<'a, Self>;
            type Item<'a> = Self;
            fn reader<'a>(cx: &mut #h::Build<'a>) -> #h::Result<Self::Reader<'a>> {
                #p::enum_field::reader(cx)
            }
            #[inline(always)]
            fn item<'a>(reader: &'a Self::Reader<'a>, ordinal: u32) -> Self {
                #p::enum_field::get(reader, ordinal)
            }
        }

        impl #h::KeyPart for #ident {
            type Borrowed<'k> = Self;
            #[inline]
            fn value<'k>(part: &Self::Borrowed<'k>) -> #p::Value<'k> {
                #p::enum_field::value(part)
            }
        }

        impl #h::KeyTuple for #ident {
            type Borrowed<'k> = Self;
            const LEN: usize = 1;
            #[inline]
            fn with_values<R>(key: &Self, f: impl ::core::ops::FnOnce(&[#p::Value<'_>]) -> R) -> R {
                f(&[#p::enum_field::value(key)])
            }
        }
    })
}

/// `impl Field for #ident`: its kind (`declare`, with `reg` in scope), its value (`value`,
/// with `self` and `sink` in scope), and a module of `column`, `get` and `get_opt` helpers.
fn field_impl(
    ident: &syn::Ident,
    declare: Tokens,
    value: Tokens,
    column: Tokens,
    out: Tokens,
    helpers: Tokens,
) -> Tokens {
    let h = quote!(::hollow::typed);
    let p = quote!(::hollow::typed::__private);
    quote! {
        impl #h::Field for #ident {
            #[allow(unused_variables)]
            fn declare(reg: &mut #h::Registry) -> #p::FieldKind {
                #declare
            }
            #[inline]
            #[allow(unused_variables)]
            fn to_value<'v, S: #h::Sink + ?Sized>(&'v self, sink: &mut S) -> #h::Result<#p::Value<'v>> {
                ::core::result::Result::Ok(#value)
            }
            type Column<'a> = #column;
            type Out<'a> = #out;
            fn column<'a>(
                cx: &mut #h::Build<'a>,
                object: &#p::ObjectView<'a>,
                field: &str,
                nullable: bool,
            ) -> #h::Result<Self::Column<'a>> {
                #helpers::column(cx, object, field, nullable)
            }
            #[inline(always)]
            fn get<'a>(column: &'a Self::Column<'a>, ordinal: u32) -> Self::Out<'a> {
                #helpers::get(column, ordinal)
            }
            #[inline(always)]
            fn get_opt<'a>(column: &'a Self::Column<'a>, ordinal: u32) -> ::core::option::Option<Self::Out<'a>> {
                #helpers::get_opt(column, ordinal)
            }
        }
    }
}
