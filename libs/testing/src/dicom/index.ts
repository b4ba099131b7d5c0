export * from './character-sets';
export * from './dicom-writer';
export * from './multi-frame-generator';
export * from './sample-values';
export * from './study-generator';
export * from './tags';
export * from './uids';
export * from './worklist-generator';
