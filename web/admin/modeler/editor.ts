// The bpmn-js Modeler with the Zeebe moddle, the Zeebe behaviours (a new user task becomes a
// native zeebe:userTask) and the properties panel with the Zeebe properties.
import Modeler from 'bpmn-js/lib/Modeler'
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, ZeebePropertiesProviderModule } from 'bpmn-js-properties-panel'
import ZeebeBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-cloud'
import zeebeModdle from 'zeebe-bpmn-moddle/resources/zeebe.json'
import 'bpmn-js/dist/assets/diagram-js.css'
import 'bpmn-js/dist/assets/bpmn-js.css'
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css'
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css'

export function createModeler(canvas: HTMLElement, panel: HTMLElement): any {
  return new Modeler({
    container: canvas,
    propertiesPanel: { parent: panel },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, ZeebePropertiesProviderModule, ZeebeBehaviorsModule],
    moddleExtensions: { zeebe: zeebeModdle },
  })
}
