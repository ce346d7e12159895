// Type stubs for the modeler's libraries that ship none.
declare module 'bpmn-js-properties-panel' {
  export const BpmnPropertiesPanelModule: any
  export const BpmnPropertiesProviderModule: any
  export const CamundaPlatformPropertiesProviderModule: any
}
declare module 'camunda-bpmn-js-behaviors/lib/camunda-platform' {
  const module: any
  export default module
}
declare module 'camunda-bpmn-moddle/resources/camunda.json' {
  const descriptor: any
  export default descriptor
}
declare module '*.css'
