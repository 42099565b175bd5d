/** Row types of the assets feature's tables, as Kysely sees them. */
import type { Generated, Insertable, Selectable } from 'kysely';

export interface AssetsTable {
  id: Generated<number>;
  kind: string;
  name: string;
  namespace: string | null;
  description: string;
  owner: string | null;
  labels: string;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  /** The retention policy (0018_assets_retention): null keeps the files of every archived version. */
  keep_archived_files: Generated<number | null>;
}

export interface AssetLabelsTable {
  asset_id: number;
  key: string;
  value: string;
}

export interface VersionsTable {
  id: Generated<number>;
  asset_id: number;
  version: string;
  version_key: string;
  state: string;
  digest: string;
  size: number;
  file_count: number;
  metadata: string;
  labels: string;
  architecture: string | null;
  framework: string | null;
  parameters: number | null;
  accuracy: number | null;
  card: string | null;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  ready_at: string | null;
  expires_at: string | null;
  archived_at: Generated<string | null>;
  /** Set when the retention policy released the version's files: GC no longer counts them, downloads are refused. */
  files_released_at: Generated<string | null>;
}

export interface VersionLabelsTable {
  version_id: number;
  key: string;
  value: string;
}

export interface VersionFilesTable {
  version_id: number;
  path: string;
  size: number;
  sha256: string;
}

export interface LineageEdgesTable {
  version_id: number;
  relation: string;
  target_version_id: number | null;
  target_ref: string;
}

export interface AliasesTable {
  asset_id: number;
  alias: string;
  version_id: number;
  updated_at: string;
  updated_by: string | null;
}

export interface AliasEventsTable {
  id: Generated<number>;
  asset_id: number;
  alias: string;
  version: string | null;
  previous_version: string | null;
  at: string;
  actor: string | null;
}

export interface AssetsTables {
  assets: AssetsTable;
  asset_labels: AssetLabelsTable;
  versions: VersionsTable;
  version_labels: VersionLabelsTable;
  version_files: VersionFilesTable;
  lineage_edges: LineageEdgesTable;
  aliases: AliasesTable;
  alias_events: AliasEventsTable;
}

export type AssetRow = Selectable<AssetsTable>;
/** An asset as its creator writes it (the retention policy starts unset). */
export type NewAssetRow = Omit<AssetRow, 'id' | 'keep_archived_files'>;
export type VersionRow = Selectable<VersionsTable>;
export type NewVersionRow = Insertable<VersionsTable>;
export type VersionWithAsset = VersionRow & { asset_name: string; asset_kind: string };
