//! Iceberg tables in a Glue database: a table entry with `table_type=ICEBERG` and its
//! `metadata_location` parameter (the layout Athena, EMR, pyiceberg's and iceberg-rust's Glue
//! catalogs use). A table's namespace is the database. The swap re-reads the entry and updates
//! it with the version Glue gave it (`VersionId`), so a concurrent commit is refused where Glue
//! enforces that, and seen by the re-read where it does not.

use super::catalog::{PointerCatalog, TableIdent};
use super::IcebergError;
use crate::s3_store::AwsConnection;
use aws_sdk_glue::error::ProvideErrorMetadata;
use aws_sdk_glue::types::{StorageDescriptor, TableInput};
use std::collections::HashMap;

const METADATA_LOCATION: &str = "metadata_location";
const PREVIOUS_METADATA_LOCATION: &str = "previous_metadata_location";
const TABLE_TYPE: &str = "table_type";

/// The Iceberg tables of one Glue database.
#[derive(Clone, Debug)]
pub struct GluePointers {
    client: aws_sdk_glue::Client,
    database: String,
    endpoint: String,
}

impl GluePointers {
    pub async fn connect(conn: &AwsConnection, database: &str) -> GluePointers {
        GluePointers {
            client: aws_sdk_glue::Client::new(&conn.sdk_config().await),
            database: database.to_string(),
            endpoint: conn.endpoint_name(),
        }
    }

    fn failed(&self, what: &str, e: impl ProvideErrorMetadata + std::fmt::Display) -> IcebergError {
        let message = e.message().map(str::to_string).unwrap_or_else(|| e.to_string());
        IcebergError::Catalog {
            catalog: format!("{} at {}", self.name(), self.endpoint),
            message: format!("{what}: {message}"),
        }
    }

    fn check_namespace(&self, table: &TableIdent) -> Result<(), IcebergError> {
        if table.namespace == self.database {
            Ok(())
        } else {
            Err(IcebergError::Catalog {
                catalog: self.name(),
                message: format!("table {table}: in a Glue catalog the namespace is the database {}", self.database),
            })
        }
    }

    /// The table's entry: its parameters and version, `None` when there is none.
    async fn entry(&self, table: &TableIdent) -> Result<Option<aws_sdk_glue::types::Table>, IcebergError> {
        self.check_namespace(table)?;
        match self.client.get_table().database_name(&self.database).name(&table.name).send().await {
            Ok(out) => Ok(out.table),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_entity_not_found_exception()) => Ok(None),
            Err(e) => Err(self.failed("GetTable", e.into_service_error())),
        }
    }
}

fn is_iceberg(params: &HashMap<String, String>) -> bool {
    params.get(TABLE_TYPE).is_some_and(|t| t.eq_ignore_ascii_case("iceberg"))
}

#[async_trait::async_trait]
impl PointerCatalog for GluePointers {
    fn name(&self) -> String {
        format!("glue:{}", self.database)
    }

    async fn pointer(&self, table: &TableIdent) -> Result<Option<String>, IcebergError> {
        let Some(entry) = self.entry(table).await? else { return Ok(None) };
        let params = entry.parameters.unwrap_or_default();
        if !is_iceberg(&params) {
            return Ok(None);
        }
        Ok(params.get(METADATA_LOCATION).cloned())
    }

    async fn swap(&self, table: &TableIdent, expected: &str, new: &str) -> Result<(), IcebergError> {
        let entry = self.entry(table).await?.ok_or_else(|| IcebergError::NoSuchTable(table.to_string()))?;
        let mut params = entry.parameters.clone().unwrap_or_default();
        if params.get(METADATA_LOCATION).map(String::as_str) != Some(expected) {
            return Err(IcebergError::Changed { table: table.to_string(), expected: expected.to_string() });
        }
        params.insert(METADATA_LOCATION.into(), new.to_string());
        params.insert(PREVIOUS_METADATA_LOCATION.into(), expected.to_string());
        let input = TableInput::builder()
            .name(&table.name)
            .set_table_type(entry.table_type.clone())
            .set_storage_descriptor(entry.storage_descriptor.clone())
            .set_parameters(Some(params))
            .build()
            .map_err(|e| IcebergError::Unsupported(e.to_string()))?;
        let mut update = self.client.update_table().database_name(&self.database).table_input(input);
        if let Some(version) = entry.version_id {
            update = update.version_id(version);
        }
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_concurrent_modification_exception()) => {
                Err(IcebergError::Changed { table: table.to_string(), expected: expected.to_string() })
            }
            Err(e) => Err(self.failed("UpdateTable", e.into_service_error())),
        }
    }

    async fn create(&self, table: &TableIdent, metadata_location: &str) -> Result<(), IcebergError> {
        self.check_namespace(table)?;
        let location = metadata_location.rsplit_once("/metadata/").map(|(t, _)| t.to_string());
        let input = TableInput::builder()
            .name(&table.name)
            .table_type("EXTERNAL_TABLE")
            .storage_descriptor(StorageDescriptor::builder().set_location(location).build())
            .parameters(TABLE_TYPE, "ICEBERG")
            .parameters(METADATA_LOCATION, metadata_location)
            .build()
            .map_err(|e| IcebergError::Unsupported(e.to_string()))?;
        match self.client.create_table().database_name(&self.database).table_input(input).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed("CreateTable", e.into_service_error())),
        }
    }

    async fn unregister(&self, table: &TableIdent) -> Result<(), IcebergError> {
        self.check_namespace(table)?;
        match self.client.delete_table().database_name(&self.database).name(&table.name).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_entity_not_found_exception()) => Ok(()),
            Err(e) => Err(self.failed("DeleteTable", e.into_service_error())),
        }
    }

    async fn tables(&self) -> Result<Vec<TableIdent>, IcebergError> {
        let mut out = Vec::new();
        let mut pages = self.client.get_tables().database_name(&self.database).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.failed("GetTables", e.into_service_error()))?;
            for t in page.table_list.unwrap_or_default() {
                if t.parameters.as_ref().is_some_and(is_iceberg) {
                    out.push(TableIdent { namespace: self.database.clone(), name: t.name });
                }
            }
        }
        Ok(out)
    }
}
