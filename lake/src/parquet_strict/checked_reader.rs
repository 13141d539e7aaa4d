//! Pages decompressed once: the Arrow decoder reads its pages through these readers, which
//! check every decompressed page (levels, dictionaries: [`super::page_content`]) as it passes,
//! so strictness costs no second decompression of the file.

use super::page_content::{check_page, Column};
use bytes::Bytes;
use parquet::arrow::arrow_reader::RowGroups;
use parquet::column::page::{Page, PageIterator, PageMetadata, PageReader};
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{ParquetMetaData, RowGroupMetaData};
use parquet::file::serialized_reader::SerializedPageReader;
use std::sync::Arc;

/// A file's row groups, read through checking page readers.
pub struct CheckedRowGroups {
    data: Arc<Bytes>,
    metadata: Arc<ParquetMetaData>,
}

impl CheckedRowGroups {
    pub fn new(data: Bytes, metadata: Arc<ParquetMetaData>) -> Self {
        CheckedRowGroups { data: Arc::new(data), metadata }
    }
}

impl RowGroups for CheckedRowGroups {
    fn num_rows(&self) -> usize {
        self.metadata.file_metadata().num_rows().max(0) as usize
    }

    fn column_chunks(&self, column: usize) -> Result<Box<dyn PageIterator>> {
        Ok(Box::new(ColumnChunks { data: self.data.clone(), metadata: self.metadata.clone(), column, next: 0 }))
    }

    fn row_groups(&self) -> Box<dyn Iterator<Item = &RowGroupMetaData> + '_> {
        Box::new(self.metadata.row_groups().iter())
    }

    fn metadata(&self) -> &ParquetMetaData {
        &self.metadata
    }
}

/// One column's chunks, row group after row group.
struct ColumnChunks {
    data: Arc<Bytes>,
    metadata: Arc<ParquetMetaData>,
    column: usize,
    next: usize,
}

impl Iterator for ColumnChunks {
    type Item = Result<Box<dyn PageReader>>;

    fn next(&mut self) -> Option<Self::Item> {
        let g = self.next;
        let row_group = self.metadata.row_groups().get(g)?;
        self.next += 1;
        let chunk = row_group.column(self.column);
        let reader = SerializedPageReader::new(self.data.clone(), chunk, row_group.num_rows().max(0) as usize, None);
        Some(reader.map(|inner| {
            Box::new(CheckedPages {
                inner,
                column: Column::of(chunk.column_descr()),
                at: format!("row group {g}, column {}", chunk.column_path().string()),
                page: 0,
            }) as Box<dyn PageReader>
        }))
    }
}

impl PageIterator for ColumnChunks {}

/// A page reader that checks each page it hands out.
struct CheckedPages {
    inner: SerializedPageReader<Bytes>,
    column: Column,
    at: String,
    page: usize,
}

impl Iterator for CheckedPages {
    type Item = Result<Page>;

    fn next(&mut self) -> Option<Self::Item> {
        self.get_next_page().transpose()
    }
}

impl PageReader for CheckedPages {
    fn get_next_page(&mut self) -> Result<Option<Page>> {
        let page = self.inner.get_next_page()?;
        if let Some(p) = &page {
            check_page(p, &self.column)
                .map_err(|e| ParquetError::General(format!("pages: {}, page {}: {e}", self.at, self.page)))?;
            self.page += 1;
        }
        Ok(page)
    }

    fn peek_next_page(&mut self) -> Result<Option<PageMetadata>> {
        self.inner.peek_next_page()
    }

    fn skip_next_page(&mut self) -> Result<()> {
        self.inner.skip_next_page()
    }

    fn at_record_boundary(&mut self) -> Result<bool> {
        self.inner.at_record_boundary()
    }
}
