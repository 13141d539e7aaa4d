//! The AWS Glue Data Catalog as a lake's catalog, through aws-sdk-glue.
//!
//! A table is a Glue table with a Parquet storage descriptor and Hive partition keys; each
//! registered partition is a Glue partition. Glue's own column types are written for other
//! readers (Athena, Spark); the exact contract (logical types, null allowances) and the landing
//! prefix ride along in table parameters. Tables registered by others (a Glue crawler) have no
//! such parameters: their contract is read from the Glue columns.

use crate::catalog::{Catalog, DeclaredColumn, TableDef};
use crate::contract::ColumnDef;
use crate::hive_types::{hive_type, logical_from_hive};
use crate::s3_store::AwsConnection;
use crate::{LakeError, Result};
use async_trait::async_trait;
use aws_sdk_glue::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_glue::types::{
    Column, DatabaseInput, PartitionInput, PartitionValueList, SerDeInfo, StorageDescriptor, TableInput,
};
use std::collections::BTreeSet;

const PARAM_CONTRACT: &str = "lakechaos.contract";
const PARAM_LANDING: &str = "lakechaos.landing";
const PARAM_LOCATION: &str = "lakechaos.location";

/// A Glue database as a catalog. Table locations are keys in `store_url` (`s3://bucket/prefix`).
#[derive(Debug, Clone)]
pub struct GlueCatalog {
    client: aws_sdk_glue::Client,
    database: String,
    store_url: String,
    endpoint: String,
}

impl GlueCatalog {
    /// A catalog over Glue database `database`, whose table data lives in `store_url`.
    pub async fn connect(conn: &AwsConnection, database: &str, store_url: &str) -> GlueCatalog {
        let sdk = conn.sdk_config().await;
        GlueCatalog {
            client: aws_sdk_glue::Client::new(&sdk),
            database: database.to_string(),
            store_url: store_url.trim_end_matches('/').to_string(),
            endpoint: conn.endpoint_name(),
        }
    }

    fn remote<E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static, R: std::fmt::Debug>(
        &self,
        what: &str,
        e: SdkError<E, R>,
    ) -> LakeError {
        crate::error::sdk_error("Glue", &self.endpoint, format!("{what} in database {}", self.database), e)
    }

    /// Whether Glue answers at `conn`: `Err` with the service's answer when it does not (LocalStack
    /// community answers HTTP 501).
    pub async fn probe(conn: &AwsConnection) -> Result<()> {
        let client = aws_sdk_glue::Client::new(&conn.sdk_config().await);
        match client.get_databases().max_results(1).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let text = e.message().map(str::to_string).unwrap_or_else(|| DisplayErrorContext(&e).to_string());
                Err(LakeError::Remote {
                    service: "Glue",
                    endpoint: conn.endpoint_name(),
                    message: match status {
                        Some(code) => format!("HTTP {code}: {text}"),
                        None => text,
                    },
                })
            }
        }
    }

    /// Creates the database (idempotent).
    pub async fn ensure_database(&self) -> Result<()> {
        let input =
            DatabaseInput::builder().name(&self.database).build().map_err(|e| LakeError::Catalog(e.to_string()))?;
        match self.client.create_database().database_input(input).send().await {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("AlreadyExistsException") => Ok(()),
            Err(e) => Err(self.remote("create database", e)),
        }
    }

    fn s3_location(&self, key_prefix: &str) -> String {
        format!("{}/{key_prefix}/", self.store_url)
    }

    fn storage(&self, location: &str, columns: Vec<Column>) -> StorageDescriptor {
        StorageDescriptor::builder()
            .set_columns(Some(columns))
            .location(self.s3_location(location))
            .input_format("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
            .output_format("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat")
            .serde_info(
                SerDeInfo::builder()
                    .serialization_library("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
                    .build(),
            )
            .build()
    }

    fn column(name: &str, hive: &str) -> Result<Column> {
        Column::builder().name(name).r#type(hive).build().map_err(|e| LakeError::Catalog(e.to_string()))
    }

    fn table_input(&self, table: &TableDef) -> Result<TableInput> {
        let columns = table
            .declared_columns()
            .iter()
            .map(|c| Self::column(&c.name, &hive_type(&c.data_type)))
            .collect::<Result<Vec<_>>>()?;
        let keys = table.partition_keys.iter().map(|k| Self::column(k, "string")).collect::<Result<Vec<_>>>()?;
        let contract = serde_json::to_string(&table.columns).map_err(|e| LakeError::Catalog(e.to_string()))?;
        let mut input = TableInput::builder()
            .name(&table.name)
            .table_type("EXTERNAL_TABLE")
            .storage_descriptor(self.storage(&table.location, columns))
            .set_partition_keys(Some(keys))
            .parameters("classification", "parquet")
            .parameters(PARAM_CONTRACT, contract)
            .parameters(PARAM_LOCATION, &table.location);
        if let Some(landing) = &table.landing {
            input = input.parameters(PARAM_LANDING, landing);
        }
        input.build().map_err(|e| LakeError::Catalog(e.to_string()))
    }

    /// Partition values of a relative partition path (`dt=2024-01-01` → `["2024-01-01"]`).
    fn values_of(partition: &str) -> Vec<String> {
        partition.split('/').map(|seg| seg.split_once('=').map(|(_, v)| v).unwrap_or(seg).to_string()).collect()
    }

    fn partition_input(&self, table: &TableDef, partition: &str) -> PartitionInput {
        PartitionInput::builder()
            .set_values(Some(Self::values_of(partition)))
            .storage_descriptor(self.storage(&format!("{}/{partition}", table.location), Vec::new()))
            .build()
    }

    async fn partitions_of(&self, name: &str, keys: &[String]) -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        let mut pages =
            self.client.get_partitions().database_name(&self.database).table_name(name).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.remote("get partitions", e))?;
            for p in page.partitions() {
                let segs: Vec<String> = keys.iter().zip(p.values()).map(|(k, v)| format!("{k}={v}")).collect();
                out.insert(segs.join("/"));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl Catalog for GlueCatalog {
    async fn start_crawler(&self, name: &str) -> Result<String> {
        match self.client.start_crawler().name(name).send().await {
            Ok(_) => {}
            // Already crawling: that crawl sees the repaired catalog or the next one will.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_crawler_running_exception()) => {}
            Err(e) => return Err(crate::error::sdk_error("Glue", &self.endpoint, format!("start crawler {name}"), e)),
        }
        let crawler = self
            .client
            .get_crawler()
            .name(name)
            .send()
            .await
            .map_err(|e| crate::error::sdk_error("Glue", &self.endpoint, format!("get crawler {name}"), e))?
            .crawler;
        Ok(crawler.and_then(|c| c.state).map(|s| s.as_str().to_string()).unwrap_or_else(|| "UNKNOWN".into()))
    }

    fn describe(&self) -> String {
        format!("glue:{} ({})", self.database, self.endpoint)
    }

    async fn list_tables(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let mut pages = self.client.get_tables().database_name(&self.database).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.remote("list tables", e))?;
            names.extend(page.table_list().iter().map(|t| t.name().to_string()));
        }
        names.sort();
        Ok(names)
    }

    async fn get_table(&self, name: &str) -> Result<Option<TableDef>> {
        let table = match self.client.get_table().database_name(&self.database).name(name).send().await {
            Ok(t) => t.table,
            Err(e) if e.code() == Some("EntityNotFoundException") => return Ok(None),
            Err(e) => return Err(self.remote("get table", e)),
        };
        let Some(table) = table else { return Ok(None) };
        let params = table.parameters();
        let sd = table.storage_descriptor();
        let declared: Vec<DeclaredColumn> = sd
            .map(|sd| sd.columns())
            .unwrap_or_default()
            .iter()
            .map(|c| DeclaredColumn {
                name: c.name().to_string(),
                data_type: logical_from_hive(c.r#type().unwrap_or("string")),
            })
            .collect();
        let has_contract = params.is_some_and(|p| p.contains_key(PARAM_CONTRACT));
        let keys: Vec<String> = table.partition_keys().iter().map(|c| c.name().to_string()).collect();
        let columns: Vec<ColumnDef> = match params.and_then(|p| p.get(PARAM_CONTRACT)) {
            Some(json) => serde_json::from_str(json)
                .map_err(|e| LakeError::Catalog(format!("table {name}: bad {PARAM_CONTRACT}: {e}")))?,
            None => sd
                .map(|sd| sd.columns())
                .unwrap_or_default()
                .iter()
                .map(|c| ColumnDef {
                    name: c.name().to_string(),
                    data_type: logical_from_hive(c.r#type().unwrap_or("string")),
                    nullable: true,
                    max_null_fraction: 1.0,
                })
                .collect(),
        };
        let location = match params.and_then(|p| p.get(PARAM_LOCATION)) {
            Some(l) => l.clone(),
            None => {
                let s3 = sd.and_then(|sd| sd.location()).unwrap_or_default();
                s3.strip_prefix(&format!("{}/", self.store_url)).unwrap_or(s3).trim_end_matches('/').to_string()
            }
        };
        let mut def = TableDef {
            name: name.to_string(),
            location,
            partitions: self.partitions_of(name, &keys).await?,
            partition_keys: keys,
            columns,
            landing: params.and_then(|p| p.get(PARAM_LANDING)).cloned(),
            // A crawler's table has no contract apart from its columns: nothing can drift.
            declared: has_contract.then_some(declared),
        };
        // Declared columns are kept only where they say something the contract does not.
        if def.declared_drift().is_none() {
            def.declared = None;
        }
        Ok(Some(def))
    }

    async fn put_table(&self, table: &TableDef) -> Result<()> {
        let input = self.table_input(table)?;
        let existing = self.get_table(&table.name).await?;
        match &existing {
            None => {
                self.client
                    .create_table()
                    .database_name(&self.database)
                    .table_input(input)
                    .send()
                    .await
                    .map_err(|e| self.remote("create table", e))?;
            }
            Some(_) => {
                self.client
                    .update_table()
                    .database_name(&self.database)
                    .table_input(input)
                    .send()
                    .await
                    .map_err(|e| self.remote("update table", e))?;
            }
        }
        let current = existing.map(|t| t.partitions).unwrap_or_default();
        let added: Vec<String> = table.partitions.difference(&current).cloned().collect();
        let removed: Vec<String> = current.difference(&table.partitions).cloned().collect();
        if !added.is_empty() {
            self.add_partitions(&table.name, &added).await?;
        }
        if !removed.is_empty() {
            self.remove_partitions(&table.name, &removed).await?;
        }
        Ok(())
    }

    async fn add_partitions(&self, table: &str, partitions: &[String]) -> Result<()> {
        let def = self.require(table).await?;
        let new: Vec<&String> = partitions.iter().filter(|p| !def.partitions.contains(*p)).collect();
        // Glue takes at most 100 partitions per batch.
        for chunk in new.chunks(100) {
            let inputs: Vec<PartitionInput> = chunk.iter().map(|p| self.partition_input(&def, p)).collect();
            let resp = self
                .client
                .batch_create_partition()
                .database_name(&self.database)
                .table_name(table)
                .set_partition_input_list(Some(inputs))
                .send()
                .await
                .map_err(|e| self.remote("create partitions", e))?;
            if let Some(err) = resp
                .errors()
                .iter()
                .find(|e| e.error_detail().and_then(|d| d.error_code()) != Some("AlreadyExistsException"))
            {
                return Err(LakeError::Catalog(format!("Glue refused a partition of {table}: {err:?}")));
            }
        }
        Ok(())
    }

    async fn remove_partitions(&self, table: &str, partitions: &[String]) -> Result<()> {
        for chunk in partitions.chunks(25) {
            let values: Vec<PartitionValueList> = chunk
                .iter()
                .map(|p| {
                    PartitionValueList::builder()
                        .set_values(Some(Self::values_of(p)))
                        .build()
                        .map_err(|e| LakeError::Catalog(e.to_string()))
                })
                .collect::<Result<_>>()?;
            self.client
                .batch_delete_partition()
                .database_name(&self.database)
                .table_name(table)
                .set_partitions_to_delete(Some(values))
                .send()
                .await
                .map_err(|e| self.remote("delete partitions", e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_map_both_ways_for_the_common_ones() {
        for logical in ["int64", "int32", "float64", "string", "bool", "date", "decimal(10,2)"] {
            assert_eq!(logical_from_hive(&hive_type(logical)), logical);
        }
        assert_eq!(hive_type("timestamp[us, UTC]"), "timestamp");
        assert_eq!(GlueCatalog::values_of("y=2024/m=01"), vec!["2024", "01"]);
    }
}
