export * from './dcmtk';
export * from './orthanc-rest';
export * from './peers';
export * from './rejecting-orthanc';
export * from './local-dcmtk';
