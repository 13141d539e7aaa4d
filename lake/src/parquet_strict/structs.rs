//! The Parquet format's Thrift structures as data: for each struct, its fields' ids, wire
//! kinds and whether they are required (parquet-format's `parquet.thrift`). Only what a reader
//! of footers and page headers meets; field ids not listed are skipped as the format allows.

/// What a field holds.
#[derive(Debug)]
pub enum Kind {
    Bool,
    I8,
    I16,
    I32,
    I64,
    Double,
    Binary,
    /// An i32 enum whose known values are `0..=max`.
    Enum(&'static str, i32),
    Struct(&'static StructDef),
    List(&'static Kind),
}

#[derive(Debug)]
pub struct FieldDef {
    pub id: i16,
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

#[derive(Debug)]
pub struct StructDef {
    pub name: &'static str,
    pub fields: &'static [FieldDef],
}

impl Kind {
    /// The kind as the format's IDL names it.
    pub fn describe(&self) -> String {
        match self {
            Kind::Bool => "bool".into(),
            Kind::I8 => "i8".into(),
            Kind::I16 => "i16".into(),
            Kind::I32 => "i32".into(),
            Kind::I64 => "i64".into(),
            Kind::Double => "double".into(),
            Kind::Binary => "binary".into(),
            Kind::Enum(name, _) => (*name).into(),
            Kind::Struct(def) => def.name.into(),
            Kind::List(elem) => format!("list<{}>", elem.describe()),
        }
    }
}

const fn req(id: i16, name: &'static str, kind: Kind) -> FieldDef {
    FieldDef { id, name, kind, required: true }
}

const fn opt(id: i16, name: &'static str, kind: Kind) -> FieldDef {
    FieldDef { id, name, kind, required: false }
}

const TYPE: Kind = Kind::Enum("Type", 7);
const REPETITION: Kind = Kind::Enum("FieldRepetitionType", 2);
const CONVERTED_TYPE: Kind = Kind::Enum("ConvertedType", 21);
const ENCODING: Kind = Kind::Enum("Encoding", 9);
const CODEC: Kind = Kind::Enum("CompressionCodec", 7);
const PAGE_TYPE: Kind = Kind::Enum("PageType", 3);

static EMPTY: StructDef = StructDef { name: "empty struct", fields: &[] };

static KEY_VALUE: StructDef =
    StructDef { name: "KeyValue", fields: &[req(1, "key", Kind::Binary), opt(2, "value", Kind::Binary)] };

static DECIMAL_TYPE: StructDef =
    StructDef { name: "DecimalType", fields: &[req(1, "scale", Kind::I32), req(2, "precision", Kind::I32)] };

static TIME_UNIT: StructDef = StructDef {
    name: "TimeUnit",
    fields: &[opt(1, "MILLIS", Kind::Struct(&EMPTY)), opt(2, "MICROS", Kind::Struct(&EMPTY)), opt(3, "NANOS", Kind::Struct(&EMPTY))],
};

static TIME_TYPE: StructDef = StructDef {
    name: "TimeType/TimestampType",
    fields: &[req(1, "isAdjustedToUTC", Kind::Bool), req(2, "unit", Kind::Struct(&TIME_UNIT))],
};

static INT_TYPE: StructDef =
    StructDef { name: "IntType", fields: &[req(1, "bitWidth", Kind::I8), req(2, "isSigned", Kind::Bool)] };

static VARIANT_TYPE: StructDef =
    StructDef { name: "VariantType", fields: &[opt(1, "specification_version", Kind::I8)] };

static GEOMETRY_TYPE: StructDef = StructDef { name: "GeometryType", fields: &[opt(1, "crs", Kind::Binary)] };

static GEOGRAPHY_TYPE: StructDef = StructDef {
    name: "GeographyType",
    fields: &[opt(1, "crs", Kind::Binary), opt(2, "algorithm", Kind::Enum("EdgeInterpolationAlgorithm", 4))],
};

static LOGICAL_TYPE: StructDef = StructDef {
    name: "LogicalType",
    fields: &[
        opt(1, "STRING", Kind::Struct(&EMPTY)),
        opt(2, "MAP", Kind::Struct(&EMPTY)),
        opt(3, "LIST", Kind::Struct(&EMPTY)),
        opt(4, "ENUM", Kind::Struct(&EMPTY)),
        opt(5, "DECIMAL", Kind::Struct(&DECIMAL_TYPE)),
        opt(6, "DATE", Kind::Struct(&EMPTY)),
        opt(7, "TIME", Kind::Struct(&TIME_TYPE)),
        opt(8, "TIMESTAMP", Kind::Struct(&TIME_TYPE)),
        opt(10, "INTEGER", Kind::Struct(&INT_TYPE)),
        opt(11, "UNKNOWN", Kind::Struct(&EMPTY)),
        opt(12, "JSON", Kind::Struct(&EMPTY)),
        opt(13, "BSON", Kind::Struct(&EMPTY)),
        opt(14, "UUID", Kind::Struct(&EMPTY)),
        opt(15, "FLOAT16", Kind::Struct(&EMPTY)),
        opt(16, "VARIANT", Kind::Struct(&VARIANT_TYPE)),
        opt(17, "GEOMETRY", Kind::Struct(&GEOMETRY_TYPE)),
        opt(18, "GEOGRAPHY", Kind::Struct(&GEOGRAPHY_TYPE)),
    ],
};

static SCHEMA_ELEMENT: StructDef = StructDef {
    name: "SchemaElement",
    fields: &[
        opt(1, "type", TYPE),
        opt(2, "type_length", Kind::I32),
        opt(3, "repetition_type", REPETITION),
        req(4, "name", Kind::Binary),
        opt(5, "num_children", Kind::I32),
        opt(6, "converted_type", CONVERTED_TYPE),
        opt(7, "scale", Kind::I32),
        opt(8, "precision", Kind::I32),
        opt(9, "field_id", Kind::I32),
        opt(10, "logicalType", Kind::Struct(&LOGICAL_TYPE)),
    ],
};

static STATISTICS: StructDef = StructDef {
    name: "Statistics",
    fields: &[
        opt(1, "max", Kind::Binary),
        opt(2, "min", Kind::Binary),
        opt(3, "null_count", Kind::I64),
        opt(4, "distinct_count", Kind::I64),
        opt(5, "max_value", Kind::Binary),
        opt(6, "min_value", Kind::Binary),
        opt(7, "is_max_value_exact", Kind::Bool),
        opt(8, "is_min_value_exact", Kind::Bool),
        opt(9, "nan_count", Kind::I64),
    ],
};

static PAGE_ENCODING_STATS: StructDef = StructDef {
    name: "PageEncodingStats",
    fields: &[req(1, "page_type", PAGE_TYPE), req(2, "encoding", ENCODING), req(3, "count", Kind::I32)],
};

static SIZE_STATISTICS: StructDef = StructDef {
    name: "SizeStatistics",
    fields: &[
        opt(1, "unencoded_byte_array_data_bytes", Kind::I64),
        opt(2, "repetition_level_histogram", Kind::List(&Kind::I64)),
        opt(3, "definition_level_histogram", Kind::List(&Kind::I64)),
    ],
};

static BOUNDING_BOX: StructDef = StructDef {
    name: "BoundingBox",
    fields: &[
        req(1, "xmin", Kind::Double),
        req(2, "xmax", Kind::Double),
        req(3, "ymin", Kind::Double),
        req(4, "ymax", Kind::Double),
        opt(5, "zmin", Kind::Double),
        opt(6, "zmax", Kind::Double),
        opt(7, "mmin", Kind::Double),
        opt(8, "mmax", Kind::Double),
    ],
};

static GEOSPATIAL_STATISTICS: StructDef = StructDef {
    name: "GeospatialStatistics",
    fields: &[opt(1, "bbox", Kind::Struct(&BOUNDING_BOX)), opt(2, "geospatial_types", Kind::List(&Kind::I32))],
};

static COLUMN_META_DATA: StructDef = StructDef {
    name: "ColumnMetaData",
    fields: &[
        req(1, "type", TYPE),
        req(2, "encodings", Kind::List(&ENCODING)),
        req(3, "path_in_schema", Kind::List(&Kind::Binary)),
        req(4, "codec", CODEC),
        req(5, "num_values", Kind::I64),
        req(6, "total_uncompressed_size", Kind::I64),
        req(7, "total_compressed_size", Kind::I64),
        opt(8, "key_value_metadata", Kind::List(&Kind::Struct(&KEY_VALUE))),
        req(9, "data_page_offset", Kind::I64),
        opt(10, "index_page_offset", Kind::I64),
        opt(11, "dictionary_page_offset", Kind::I64),
        opt(12, "statistics", Kind::Struct(&STATISTICS)),
        opt(13, "encoding_stats", Kind::List(&Kind::Struct(&PAGE_ENCODING_STATS))),
        opt(14, "bloom_filter_offset", Kind::I64),
        opt(15, "bloom_filter_length", Kind::I32),
        opt(16, "size_statistics", Kind::Struct(&SIZE_STATISTICS)),
        opt(17, "geospatial_statistics", Kind::Struct(&GEOSPATIAL_STATISTICS)),
    ],
};

static ENCRYPTION_WITH_COLUMN_KEY: StructDef = StructDef {
    name: "EncryptionWithColumnKey",
    fields: &[req(1, "path_in_schema", Kind::List(&Kind::Binary)), opt(2, "key_metadata", Kind::Binary)],
};

static COLUMN_CRYPTO_META_DATA: StructDef = StructDef {
    name: "ColumnCryptoMetaData",
    fields: &[
        opt(1, "ENCRYPTION_WITH_FOOTER_KEY", Kind::Struct(&EMPTY)),
        opt(2, "ENCRYPTION_WITH_COLUMN_KEY", Kind::Struct(&ENCRYPTION_WITH_COLUMN_KEY)),
    ],
};

static COLUMN_CHUNK: StructDef = StructDef {
    name: "ColumnChunk",
    fields: &[
        opt(1, "file_path", Kind::Binary),
        req(2, "file_offset", Kind::I64),
        opt(3, "meta_data", Kind::Struct(&COLUMN_META_DATA)),
        opt(4, "offset_index_offset", Kind::I64),
        opt(5, "offset_index_length", Kind::I32),
        opt(6, "column_index_offset", Kind::I64),
        opt(7, "column_index_length", Kind::I32),
        opt(8, "crypto_metadata", Kind::Struct(&COLUMN_CRYPTO_META_DATA)),
        opt(9, "encrypted_column_metadata", Kind::Binary),
    ],
};

static SORTING_COLUMN: StructDef = StructDef {
    name: "SortingColumn",
    fields: &[req(1, "column_idx", Kind::I32), req(2, "descending", Kind::Bool), req(3, "nulls_first", Kind::Bool)],
};

static ROW_GROUP: StructDef = StructDef {
    name: "RowGroup",
    fields: &[
        req(1, "columns", Kind::List(&Kind::Struct(&COLUMN_CHUNK))),
        req(2, "total_byte_size", Kind::I64),
        req(3, "num_rows", Kind::I64),
        opt(4, "sorting_columns", Kind::List(&Kind::Struct(&SORTING_COLUMN))),
        opt(5, "file_offset", Kind::I64),
        opt(6, "total_compressed_size", Kind::I64),
        opt(7, "ordinal", Kind::I16),
    ],
};

static COLUMN_ORDER: StructDef = StructDef { name: "ColumnOrder", fields: &[opt(1, "TYPE_ORDER", Kind::Struct(&EMPTY))] };

static AES_GCM: StructDef = StructDef {
    name: "AesGcmV1/AesGcmCtrV1",
    fields: &[
        opt(1, "aad_prefix", Kind::Binary),
        opt(2, "aad_file_unique", Kind::Binary),
        opt(3, "supply_aad_prefix", Kind::Bool),
    ],
};

static ENCRYPTION_ALGORITHM: StructDef = StructDef {
    name: "EncryptionAlgorithm",
    fields: &[opt(1, "AES_GCM_V1", Kind::Struct(&AES_GCM)), opt(2, "AES_GCM_CTR_V1", Kind::Struct(&AES_GCM))],
};

/// The footer's root structure.
pub static FILE_META_DATA: StructDef = StructDef {
    name: "FileMetaData",
    fields: &[
        req(1, "version", Kind::I32),
        req(2, "schema", Kind::List(&Kind::Struct(&SCHEMA_ELEMENT))),
        req(3, "num_rows", Kind::I64),
        req(4, "row_groups", Kind::List(&Kind::Struct(&ROW_GROUP))),
        opt(5, "key_value_metadata", Kind::List(&Kind::Struct(&KEY_VALUE))),
        opt(6, "created_by", Kind::Binary),
        opt(7, "column_orders", Kind::List(&Kind::Struct(&COLUMN_ORDER))),
        opt(8, "encryption_algorithm", Kind::Struct(&ENCRYPTION_ALGORITHM)),
        opt(9, "footer_signing_key_metadata", Kind::Binary),
    ],
};

pub static DATA_PAGE_HEADER: StructDef = StructDef {
    name: "DataPageHeader",
    fields: &[
        req(1, "num_values", Kind::I32),
        req(2, "encoding", ENCODING),
        req(3, "definition_level_encoding", ENCODING),
        req(4, "repetition_level_encoding", ENCODING),
        opt(5, "statistics", Kind::Struct(&STATISTICS)),
    ],
};

pub static DICTIONARY_PAGE_HEADER: StructDef = StructDef {
    name: "DictionaryPageHeader",
    fields: &[req(1, "num_values", Kind::I32), req(2, "encoding", ENCODING), opt(3, "is_sorted", Kind::Bool)],
};

pub static DATA_PAGE_HEADER_V2: StructDef = StructDef {
    name: "DataPageHeaderV2",
    fields: &[
        req(1, "num_values", Kind::I32),
        req(2, "num_nulls", Kind::I32),
        req(3, "num_rows", Kind::I32),
        req(4, "encoding", ENCODING),
        req(5, "definition_levels_byte_length", Kind::I32),
        req(6, "repetition_levels_byte_length", Kind::I32),
        opt(7, "is_compressed", Kind::Bool),
        opt(8, "statistics", Kind::Struct(&STATISTICS)),
    ],
};

/// A page's header, in front of every page of a column chunk.
pub static PAGE_HEADER: StructDef = StructDef {
    name: "PageHeader",
    fields: &[
        req(1, "type", PAGE_TYPE),
        req(2, "uncompressed_page_size", Kind::I32),
        req(3, "compressed_page_size", Kind::I32),
        opt(4, "crc", Kind::I32),
        opt(5, "data_page_header", Kind::Struct(&DATA_PAGE_HEADER)),
        opt(6, "index_page_header", Kind::Struct(&EMPTY)),
        opt(7, "dictionary_page_header", Kind::Struct(&DICTIONARY_PAGE_HEADER)),
        opt(8, "data_page_header_v2", Kind::Struct(&DATA_PAGE_HEADER_V2)),
    ],
};
