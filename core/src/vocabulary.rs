//! Closed sets that are stored as text. One macro declares each: its variants, the name it is
//! stored (and serialised) under, and the words people read. Everything else — parsing a
//! stored name back, refusing an unknown one, listing them all — comes from that one table,
//! so a typo in a stored name cannot compile and no other code spells the names.

/// Declares a closed set stored as text.
///
/// ```
/// keydesk_core::stored_as_text! {
///     /// A traffic light.
///     pub enum Light / UnknownLight ("light") {
///         Red = "red", "Stop";
///         Green = "green", "Go";
///     }
/// }
/// assert_eq!("green".parse::<Light>(), Ok(Light::Green));
/// assert_eq!(Light::Red.label(), "Stop");
/// assert_eq!(Light::try_from("amber".to_owned()).unwrap_err().to_string(), "unknown light \"amber\": expected one of red, green");
/// ```
#[macro_export]
macro_rules! stored_as_text {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident / $unknown:ident ($what:literal) {
            $( $(#[$variant_meta:meta])* $variant:ident = $stored:literal, $label:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            /// As stored in the database and serialised in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $stored, )+ }
            }

            /// As people read it on a page.
            pub fn label(self) -> &'static str {
                match self { $( $name::$variant => $label, )+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// A stored name that is not one of the set's.
        #[derive(Debug, Clone, PartialEq, Eq)]
        $vis struct $unknown(pub String);

        impl std::fmt::Display for $unknown {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                write!(f, "unknown {} {:?}: expected one of {}", $what, self.0, names.join(", "))
            }
        }

        impl std::error::Error for $unknown {}

        impl std::str::FromStr for $name {
            type Err = $unknown;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $name::ALL.into_iter().find(|v| v.as_str() == text).ok_or_else(|| $unknown(text.to_owned()))
            }
        }

        /// How the database layer reads a stored name back (`#[diesel(deserialize_as = String)]`).
        impl TryFrom<String> for $name {
            type Error = $unknown;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}
